using Microsoft.ML.Tokenizers;
using PeftSharp.IO;
using PeftSharp.IO.Gguf;
using PeftSharp.Models;
using PeftSharp.Models.Llama;
using static TorchSharp.torch;

namespace PeftSharp.Tests.IO;

/// <summary>
/// The real stories260K model read from llama.cpp's GGUF equals the same weights in Hugging Face layout
/// (shared/models/stories260K-hf): tensor for tensor, in logits, and in greedy decoding.
/// </summary>
public class GgufLlamaTests
{
    static string Gguf => Fixtures.Shared("models", "stories260K", "stories260K.gguf");
    static string HuggingFace => Fixtures.Shared("models", "stories260K-hf");

    /// <summary>What llama2.c publishes as stories260K's greedy output from BOS.</summary>
    const string PublishedStory = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.";

    [Fact]
    public void EveryTensorEqualsTheHuggingFaceCheckpointAfterRenamingAndUnpermuting()
    {
        var expected = Fixtures.ReadTensors(Path.Combine(HuggingFace, "model.safetensors"));
        using var source = GgufLlamaSource.Open(Gguf);
        Assert.Equal(48, source.Names.Count);
        // The HF checkpoint ties lm_head to the embeddings and leaves it out; the GGUF stores a copy as output.weight.
        Assert.Equal(expected.Keys.Append("lm_head.weight").Order(), source.Names.Order());
        foreach (string name in source.Names)
        {
            using var tensor = source.Read(name);
            var reference = expected[name == "lm_head.weight" ? "model.embed_tokens.weight" : name];
            TensorAssert.Identical(reference, tensor, name);
            Assert.Equal(reference.shape, source.Info(name).Shape);
        }
    }

    [Fact]
    public void WithoutUnpermutingQueryAndKeyRowsWouldDiffer()
    {
        // The check above proves the inverse permutation only if the raw GGUF rows are not already in HF order.
        var expected = Fixtures.ReadTensors(Path.Combine(HuggingFace, "model.safetensors"));
        using var file = GgufFile.Open(Gguf);
        using var rawQ = file.Read("blk.0.attn_q.weight");
        using var rawK = file.Read("blk.0.attn_k.weight");
        Assert.False(rawQ.equal(expected["model.layers.0.self_attn.q_proj.weight"]).all().item<bool>());
        Assert.False(rawK.equal(expected["model.layers.0.self_attn.k_proj.weight"]).all().item<bool>());
    }

    [Fact]
    public void ConfigFromMetadataMatchesTheHuggingFaceConfig()
    {
        using var file = GgufFile.Open(Gguf);
        var json = GgufLlama.ConfigJson(file);
        var config = GgufLlama.Config(file);
        var (_, reference) = AutoModel.ReadConfig(HuggingFace);
        var hf = (LlamaConfig)reference;
        Assert.Equal("llama", (string)json["model_type"]!);
        Assert.Equal((hf.HiddenSize, hf.IntermediateSize, hf.NumLayers, hf.NumHeads, hf.NumKeyValueHeads, hf.HeadDim, hf.VocabSize),
            (config.HiddenSize, config.IntermediateSize, config.NumLayers, config.NumHeads, config.NumKeyValueHeads, config.HeadDim, config.VocabSize));
        Assert.Equal(hf.RmsNormEps, config.RmsNormEps); // float32 1e-5 in the GGUF reads back as exactly 1e-5
        Assert.Equal(hf.RopeTheta, config.RopeTheta);   // llama.rope.freq_base is absent: the default
        Assert.Equal(hf.BosTokenId, config.BosTokenId);
        Assert.Equal(hf.EosTokenIds, config.EosTokenIds);
        Assert.Null(config.PadTokenId);                 // tokenizer.ggml.padding_token_id is 2^32-1: none
        Assert.Equal(2048, config.MaxPositions);        // llama.context_length of this file
        Assert.False(config.TieWordEmbeddings);         // output.weight is present
        Assert.Equal("float32", config.TorchDType);
        Assert.Equal(new[] { "LlamaForCausalLM" }, config.Architectures);
        Assert.Equal(Gguf, config.Source);
    }

    [Fact]
    public void LogitsEqualTheHuggingFaceLayoutModel()
    {
        var fromGguf = GgufModelLoader.Load(Gguf);
        Assert.Equal("LlamaForCausalLM", fromGguf.Model.Architecture);
        Assert.Equal(48, fromGguf.Report.Loaded);
        var fromHf = AutoModel.Load(HuggingFace).Model;
        using var _ = no_grad();
        var ids = tensor(new long[,] { { 1, 403, 407, 261, 378, 10, 77, 5, 300, 511, 2, 1 }, { 1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 100 } });
        var expected = fromHf.Logits(ids);
        var actual = fromGguf.Model.Logits(ids);
        Assert.True(Fixtures.MaxAbsDiff(expected, actual) < 1e-5, $"max diff {Fixtures.MaxAbsDiff(expected, actual)}");
    }

    [Fact]
    public void GreedyDecodingFromBosMatchesTheHuggingFaceModelAndThePublishedStory()
    {
        var fromGguf = GgufModelLoader.Load(Gguf).Model;
        var fromHf = AutoModel.Load(HuggingFace).Model;
        var ids = Greedy(fromGguf, 40);
        Assert.Equal(Greedy(fromHf, 40), ids);

        using var model = new MemoryStream(GgufTokenizer.Read(Gguf).ToSentencePieceModel());
        var tokenizer = LlamaTokenizer.Create(model);
        string text = tokenizer.Decode(ids.Skip(1).Select(i => (int)i))!;
        Assert.True(text.Length > 100, text);
        Assert.StartsWith(text.Trim(), PublishedStory);
    }

    [Fact]
    public void NonLlamaArchitecturesAreRefused()
    {
        using var directory = Fixtures.TempDir();
        string path = GgufBuilder.TinyLlama("gpt2").Write(directory.File("gpt2.gguf"));
        var error = Assert.Throws<CheckpointFormatException>(() => GgufModelLoader.Load(path));
        Assert.Equal(path, error.File);
        Assert.Contains("metadata 'general.architecture' is 'gpt2'", error.Message);
    }

    [Fact]
    public void ATinyConstructedLlamaLoadsAndUnknownTensorsAreRefused()
    {
        using var directory = Fixtures.TempDir();
        var loaded = GgufModelLoader.Load(GgufBuilder.TinyLlama().Write(directory.File("tiny.gguf")));
        var config = (LlamaConfig)loaded.Model.Config;
        Assert.True(config.TieWordEmbeddings); // no output.weight
        Assert.Equal((8, 2, 1, 4, 1e-6), (config.HiddenSize, config.NumHeads, config.NumKeyValueHeads, config.VocabSize, config.RmsNormEps));

        string path = GgufBuilder.TinyLlama().F32("rope_freqs.weight", new long[] { 2 }, new[] { 1f, 1f }).Write(directory.File("extra.gguf"));
        var error = Assert.Throws<CheckpointFormatException>(() => GgufModelLoader.Load(path));
        Assert.Equal("rope_freqs.weight", error.Tensor);
        Assert.Contains("no Hugging Face Llama equivalent", error.Message);

        path = new GgufBuilder().Meta("general.architecture", "llama").F32("token_embd.weight", new long[] { 4, 8 }, new float[32]).Write(directory.File("bare.gguf"));
        error = Assert.Throws<CheckpointFormatException>(() => GgufModelLoader.Load(path));
        Assert.Contains("metadata 'llama.embedding_length' is required but missing", error.Message);
    }

    [Theory]
    [InlineData("blk.12.attn_output.weight", "model.layers.12.self_attn.o_proj.weight")]
    [InlineData("blk.0.ffn_gate.weight", "model.layers.0.mlp.gate_proj.weight")]
    [InlineData("blk.3.ffn_norm.weight", "model.layers.3.post_attention_layernorm.weight")]
    [InlineData("blk.3.attn_q.bias", "model.layers.3.self_attn.q_proj.bias")]
    [InlineData("output.weight", "lm_head.weight")]
    [InlineData("output_norm.weight", "model.norm.weight")]
    [InlineData("blk.0.ffn_gate_exps.weight", null)]
    [InlineData("rope_freqs.weight", null)]
    public void GgufNamesMapToHuggingFaceKeys(string gguf, string? huggingFace) => Assert.Equal(huggingFace, GgufLlama.HuggingFaceName(gguf));

    /// <summary>Appends the argmax token <paramref name="steps"/> times, starting from BOS (1).</summary>
    static List<long> Greedy(TransformerModel model, int steps)
    {
        using var _ = no_grad();
        var ids = new List<long> { 1 };
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var logits = model.Logits(tensor(ids.ToArray()).unsqueeze(0));
            ids.Add(logits[0, -1].argmax().item<long>());
        }
        return ids;
    }
}
