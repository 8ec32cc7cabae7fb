using System.Globalization;
using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Tests.Models;

namespace PeftSharp.Tests.Cli;

/// <summary><c>peft inspect</c> on tiny models of several families, the real stories260K model and Python PEFT's adapters.</summary>
public class InspectCommandTests
{
    /// <summary>
    /// Unique parameter counts worked out by hand from the tiny configs in <see cref="TinyModels"/> (hidden 32, 2 blocks,
    /// vocabulary 64), tied weights once.
    /// </summary>
    [Theory]
    // llama, untied: embed 64*32 = 2,048; per block q 1,024 + k 512 + v 512 + o 1,024 (kv dim 16) + gate/up/down 3*32*64 = 6,144
    // + two norms 64 = 9,280; x2 = 18,560; final norm 32; lm_head 2,048 -> 22,688.
    [InlineData("llama", ModelTask.CausalLM, 22_688, "layers.0-1 (2 x LlamaDecoderLayer) 9,280 each")]
    // qwen2, tied, q/k/v biased: per block q 1,056 + k 528 + v 528 + o 1,024 + mlp 3*32*48 = 4,608 + norms 64 = 7,808; x2 = 15,616;
    // embed 2,048; norm 32; lm_head shares the embedding -> 17,696.
    [InlineData("qwen2", ModelTask.CausalLM, 17_696, "layers.0-1 (2 x LlamaDecoderLayer) 7,808 each")]
    // gpt2, tied: wte 2,048 + wpe 2,048; per block ln_1 64 + c_attn 3,168 + attn c_proj 1,056 + ln_2 64 + c_fc 4,224 + mlp c_proj 4,128
    // = 12,704; x2 = 25,408; ln_f 64 -> 29,568.
    [InlineData("gpt2", ModelTask.CausalLM, 29_568, "h.0-1 (2 x Gpt2Block) 12,704 each")]
    // bert with a 3-label classifier: embeddings 2,048 + 2,048 + 64 + LN 64 = 4,224; per layer q/k/v/o 4*1,056 = 4,224 + LN 64
    // + intermediate 1,584 + output 1,568 + LN 64 = 7,504; x2 = 15,008; pooler 1,056; classifier 99 -> 20,387.
    [InlineData("bert", ModelTask.SequenceClassification, 20_387, "layer.0-1 (2 x BertLayer) 7,504 each")]
    public void CountsUniqueParametersAndCollapsesRepeatedBlocks(string modelType, ModelTask task, long expected, string collapsedLine)
    {
        using var directory = Fixtures.TempDir();
        TinyModels.WriteCheckpoint(modelType, task, directory.Path);

        var json = CliRunner.Json("inspect", "--model", directory.Path, "--json");
        Assert.Equal(expected, (long)json["parameters"]!);
        Assert.Equal(expected, (long)json["modules"]!["parameters"]!);
        Assert.Equal(modelType, (string)json["model_type"]!);
        Assert.Equal("huggingface", (string)json["format"]!);
        Assert.Equal("float32", (string)json["dtype"]!);
        Assert.Equal(32, (int)json["config"]!["hidden_size"]!);
        // Every node's count is the sum of its own and its children's: the tree adds up to the unique total.
        AssertSums(json["modules"]!.AsObject());
        var collapsed = Nodes(json["modules"]!.AsObject()).Single(n => n["repeat"] is not null);
        Assert.Equal(2, (int)collapsed["repeat"]!);

        var human = CliRunner.Run("inspect", "--model", directory.Path);
        Assert.Equal(0, human.ExitCode);
        Assert.Contains(collapsedLine, human.Stdout);
        Assert.Contains($"parameters: {expected.ToString("N0", CultureInfo.InvariantCulture)}", human.Stdout);
        Assert.DoesNotContain("\u001b[", human.Stdout); // no ANSI sequences when not on a terminal
    }

    [Fact]
    public void TiedWeightsAreNamedAndCountedOnce()
    {
        using var directory = Fixtures.TempDir();
        TinyModels.WriteCheckpoint("qwen2", ModelTask.CausalLM, directory.Path);
        var json = CliRunner.Json("inspect", "--model", directory.Path, "--json");
        Assert.Equal("model.embed_tokens.weight", (string)json["tied_parameters"]!["lm_head.weight"]!);
        var head = json["modules"]!["children"]!.AsArray().Single(n => (string)n!["name"]! == "lm_head")!;
        Assert.Equal(0, (long)head["parameters"]!);
        Assert.Equal("weight -> model.embed_tokens.weight", (string)head["shared"]![0]!);
    }

    [Fact]
    public void RealModelFromDirectoryAndGguf()
    {
        // stories260K: embeddings 512*64 = 32,768; 5 blocks of 45,440; final norm 64. The HF directory ties the head to
        // the embeddings (260,032 unique); the GGUF file stores the head separately (another 32,768).
        var directory = CliRunner.Json("inspect", "--model", Fixtures.Shared("models", "stories260K-hf"), "--json");
        Assert.Equal(260_032, (long)directory["parameters"]!);
        Assert.Equal("LlamaForCausalLM", (string)directory["architecture"]!);
        Assert.Equal(4, (int)directory["config"]!["num_key_value_heads"]!);

        var gguf = CliRunner.Json("inspect", "--model", Fixtures.Shared("models", "stories260K", "stories260K.gguf"), "--json");
        Assert.Equal("gguf", (string)gguf["format"]!);
        Assert.Equal(260_032 + 32_768, (long)gguf["parameters"]!);

        var human = CliRunner.Run("inspect", "--model", Fixtures.Shared("models", "stories260K", "stories260K.gguf"));
        Assert.Contains("layers.0-4 (5 x LlamaDecoderLayer) 45,440 each", human.Stdout);
        Assert.Contains("GGUF file", human.Stdout);
    }

    /// <summary>
    /// Python PEFT's reference adapters: adapted modules and trainable share (print_trainable_parameters) worked out by hand.
    /// </summary>
    [Theory]
    // r 4 on all seven projections of 2 blocks (hidden 64, kv dim 32, intermediate 128): q 512 + k 384 + v 384 + o 512 +
    // 3 * 768 = 4,096 per block. Base: 100*64 + 2 * 36,992 + 64 + 100*64 = 86,848.
    [InlineData("llama", "llama-lora", "LORA", 14, 8_192, 86_848 + 8_192, "model.layers.0-1.self_attn.q_proj")]
    // c_attn 768 + attn.c_proj 384 + c_fc 960 + mlp.c_proj 960 = 3,072 per block, 3 blocks. Base: 4,800 + 3,072 + 3 * 28,272 + 96 = 92,784.
    [InlineData("gpt2", "gpt2-lora", "LORA", 12, 9_216, 92_784 + 9_216, "transformer.h.0-2.mlp.c_fc")]
    // c_attn scales its output (144), mlp.c_proj its input (192): 336 per block.
    [InlineData("gpt2", "gpt2-ia3", "IA3", 6, 1_008, 92_784 + 1_008, "transformer.h.0-2.attn.c_attn")]
    // q/k/v/attention.output.dense 384 each + intermediate.dense 448 + output.dense 448 = 2,432 per layer, 3 layers, pooler.dense 384
    // ("dense" matches it too), classifier copy 147 (modules_to_save). Base: 8,064 + 3 * 15,856 + 2,352 + 147 = 58,131.
    [InlineData("bert", "bert-lora", "LORA", 20, 7_827, 58_131 + 7_827, "bert.encoder.layer.0-2.attention.self.query")]
    public void ReferenceAdaptersShowMethodReachAndTrainableShare(string model, string adapter, string peftType, int modules,
        long trainable, long total, string collapsedPath)
    {
        var json = CliRunner.Json("inspect", "--model", Fixtures.Shared("reference", model), "--adapter", Fixtures.Shared("reference", adapter), "--json");
        var summary = json["adapter"]!;
        Assert.Equal(peftType, (string)summary["peft_type"]!);
        Assert.Equal(modules, (int)summary["adapted_modules"]!);
        Assert.Equal(modules, summary["modules"]!.AsArray().Sum(m => (int)m!["count"]!));
        Assert.Equal(trainable, (long)summary["trainable_parameters"]!);
        Assert.Equal(total, (long)summary["all_parameters"]!);
        Assert.Equal(100.0 * trainable / total, (double)summary["trainable_percent"]!, 9);
        Assert.Contains(summary["modules"]!.AsArray(), m => (string)m!["path"]! == collapsedPath);
        if (peftType == "LORA") Assert.Equal(4, (int)summary["options"]!["r"]!);
        // The base model's own numbers are reported before the adapter wraps it.
        Assert.Equal(total - trainable, (long)json["parameters"]!);

        var human = CliRunner.Run("inspect", "--model", Fixtures.Shared("reference", model), "--adapter", Fixtures.Shared("reference", adapter));
        Assert.Equal(0, human.ExitCode);
        Assert.Contains($"{modules} adapted modules", human.Stdout);
        Assert.Contains($"trainable params: {trainable:N0} || all params: {total:N0} || trainable%: {100.0 * trainable / total:0.####}",
            human.Stdout);
    }

    static IEnumerable<JsonObject> Nodes(JsonObject node) =>
        new[] { node }.Concat((node["children"]?.AsArray() ?? new JsonArray()).SelectMany(c => Nodes(c!.AsObject())));

    static void AssertSums(JsonObject node)
    {
        if (node["children"] is not JsonArray children) return;
        long each = node["parameters_each"] is { } e ? (long)e : (long)node["parameters"]!;
        Assert.True(children.Sum(c => (long)c!["parameters"]!) <= each, $"{node["name"]}: children exceed the node's count");
        foreach (var child in children) AssertSums(child!.AsObject());
    }
}
