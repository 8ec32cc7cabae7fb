using PeftSharp.Models;
using PeftSharp.Tokenization;

namespace PeftSharp.Cli;

/// <summary>A model given on the command line: a Hugging Face model directory or a llama.cpp .gguf file.</summary>
sealed record ModelSource(string Path, bool IsGguf)
{
    /// <summary>"Hugging Face directory" or "GGUF file", for listings.</summary>
    public string FormatName => IsGguf ? "GGUF file" : "Hugging Face directory";

    /// <summary>"huggingface" or "gguf", for JSON.</summary>
    public string FormatKey => IsGguf ? "gguf" : "huggingface";

    /// <summary>Checks that <paramref name="path"/> is a directory or a .gguf file.</summary>
    /// <exception cref="CliUsageException">Neither exists, or the file is not a .gguf.</exception>
    public static ModelSource Resolve(string path)
    {
        if (Directory.Exists(path)) return new ModelSource(path, IsGguf: false);
        if (!File.Exists(path)) throw new CliUsageException($"{path}: no such model directory or .gguf file");
        if (!path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            throw new CliUsageException($"{path}: a model must be a Hugging Face directory (config.json + weights) or a .gguf file");
        return new ModelSource(path, IsGguf: true);
    }

    /// <summary>Loads the model (head from config.json "architectures"; LlamaForCausalLM for GGUF).</summary>
    public LoadedModel Load(ModelLoadOptions? options = null) =>
        IsGguf ? GgufModelLoader.Load(Path, options) : AutoModel.Load(Path, options);

    /// <summary>The model's tokenizer (files beside config.json, or the vocabulary the GGUF file embeds).</summary>
    public PretrainedTokenizer LoadTokenizer() => TokenizerLoader.ForModel(Path);
}
