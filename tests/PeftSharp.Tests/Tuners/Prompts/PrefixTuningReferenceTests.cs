using PeftSharp.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.Prompts;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners.Prompts;

/// <summary>shared/reference/gpt2-prefix: a prefix-tuning adapter written by Python PEFT, and the logits PEFT computed with it.</summary>
public class PrefixTuningReferenceTests
{
    static readonly string AdapterDir = Fixtures.Shared("reference", "gpt2-prefix");

    [Fact]
    public void LoadedAdapterGivesPeftsLogits()
    {
        var io = Fixtures.ReadTensors(Fixtures.Shared("reference", "io", "gpt2.safetensors"));
        var model = AutoModel.Load(Fixtures.Shared("reference", "gpt2")).Model;
        var peft = PeftModel.Load(model, AdapterDir);
        peft.eval();
        var (ids, mask) = (io["input_ids"], io["attention_mask"]);
        var logits = PromptTestKit.Output(peft, ids, mask);
        Assert.Equal(ids.shape, logits.shape.Take(2).ToArray());
        var real = mask.to(ScalarType.Bool);
        var expected = io["gpt2-prefix.logits"];
        double diff = Fixtures.MaxAbsDiff(logits[real], expected[real]);
        Assert.True(diff < 1e-4, $"max diff {diff}");
        using (peft.DisableAdapters())
            Assert.True(Fixtures.MaxAbsDiff(PromptTestKit.Output(peft, ids, mask)[real], expected[real]) > 1e-3, "the prefix must matter");
    }

    [Fact]
    public void ConfigIsReadAsPeftWroteIt()
    {
        var config = Assert.IsType<PrefixTuningConfig>(PeftMethods.ReadConfig(Path.Combine(AdapterDir, AdapterFiles.ConfigFile)));
        Assert.Equal((5, 48, 4, 3, 1), (config.NumVirtualTokens, config.TokenDim, config.NumAttentionHeads, config.NumLayers, config.NumTransformerSubmodules));
        Assert.False(config.PrefixProjection);
        Assert.Equal(48, config.EncoderHiddenSize);
        Assert.True(config.InferenceMode);
        Assert.Equal("CAUSAL_LM", config.TaskType);
        Assert.Empty(config.IgnoredFields);
    }

    [Fact]
    public void SavingItAgainWritesPeftsFile()
    {
        var model = AutoModel.Load(Fixtures.Shared("reference", "gpt2")).Model;
        var peft = PeftModel.Load(model, AdapterDir);
        using var dir = Fixtures.TempDir();
        peft.SaveAdapter(dir.Path);
        var original = Fixtures.ReadTensors(Path.Combine(AdapterDir, AdapterFiles.WeightsFile));
        var saved = Fixtures.ReadTensors(dir.File(AdapterFiles.WeightsFile));
        Assert.Equal(new[] { "prompt_embeddings" }, saved.Keys.ToArray());
        Assert.Equal(new long[] { 5, 3 * 2 * 48 }, saved["prompt_embeddings"].shape);
        Assert.True(saved["prompt_embeddings"].equal(original["prompt_embeddings"]).all().item<bool>());
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(dir.File(AdapterFiles.ConfigFile)))!.AsObject();
        var theirs = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(AdapterDir, AdapterFiles.ConfigFile)))!.AsObject();
        foreach (var (field, value) in theirs)
            Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(value, json[field]), $"{field}: PEFT wrote {value?.ToJsonString()}, we wrote {json[field]?.ToJsonString()}");
    }
}
