using PeftSharp.IO.Gguf;

namespace PeftSharp.Models;

/// <summary>Builds Hugging Face Llama models from llama.cpp GGUF files.</summary>
public static class GgufModelLoader
{
    /// <summary>
    /// Loads a Llama-architecture GGUF file as the Hugging Face model it was converted from: config from its
    /// metadata (<see cref="GgufLlama.ConfigJson"/>), weights renamed, dequantised and un-permuted by
    /// <see cref="GgufLlamaSource"/>. The head is LlamaForCausalLM unless <paramref name="options"/> chooses another.
    /// The embedded tokenizer is read with <see cref="GgufTokenizer.Read(string)"/>.
    /// </summary>
    /// <exception cref="CheckpointFormatException">Not a readable Llama GGUF file.</exception>
    public static LoadedModel Load(string ggufPath, ModelLoadOptions? options = null)
    {
        using var source = GgufLlamaSource.Open(ggufPath);
        var family = ModelFamilies.ForModelType(source.Config.ModelType, ggufPath);
        return AutoModel.Load(family, source.Config, source, options ?? new ModelLoadOptions());
    }
}
