using PeftSharp.Models;
using PeftSharp.Modules;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Adapters;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.Lora;
using static PeftSharp.Tests.Tuners.Adapters.AdapterTesting;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners.Adapters;

/// <summary>AdapterFusion: its formula, training only fusion parameters, saving and loading with its adapters, errors.</summary>
public class FusionTests
{
    /// <summary>a: Pfeiffer with an invertible adapter, b: Houlsby (moved off identity), f: a fusion over both.</summary>
    static PeftModel WithFusion(string modelType, ModelTask task, FusionConfig? fusion = null)
    {
        var peft = PeftModel.Create(TinyModels.Create(modelType, task), BottleneckConfig.Pfeiffer() with { InvAdapter = "nice" }, "a");
        peft.AddAdapter("b", BottleneckConfig.Houlsby());
        Scramble(peft, "a", 1);
        Scramble(peft, "b", 2);
        peft.AddAdapter("f", fusion ?? new FusionConfig { Adapters = new[] { "a", "b" } });
        return peft;
    }

    [Theory]
    [MemberData(nameof(TinyModels.Cases), MemberType = typeof(TinyModels))]
    public void FusionTrainsOnlyItsOwnParametersAndSavesAndLoadsAsAUnit(string modelType, ModelTask task)
    {
        var peft = WithFusion(modelType, task);
        peft.SetComposition(Compose.Fuse("a", "b"), train: "f");
        Assert.Equal(new[] { "f" }, peft.ActiveAdapters);
        Assert.Equal(peft.AdapterParameters("f").Select(p => p.Handle).ToHashSet(), peft.parameters().Where(p => p.requires_grad).Select(p => p.Handle).ToHashSet());
        var ids = TinyModels.RandomIds(2, 6);
        var start = Output(peft, ids);
        var before = Snapshot(peft);
        Train(peft, ids, extraLoss: () => peft.FusionRegularizationLoss("f"));
        var changed = Changed(peft, before);
        Assert.Contains(changed, n => n.Contains(".adapter_fusion_layer.f."));
        Assert.All(changed, n => Assert.Contains("f", n.Split('.')));
        var expected = Output(peft, ids);
        Assert.True(Fixtures.MaxAbsDiff(expected, start) > 1e-4);

        using var dir = Fixtures.TempDir();
        peft.SaveFusion(dir.Path, "f");
        Assert.Equal("FUSION", PeftMethods.ReadConfig(dir.File(AdapterFiles.ConfigFile)).PeftType);
        foreach (string adapter in new[] { "a", "b" })
            Assert.Equal("BOTTLENECK", PeftMethods.ReadConfig(Path.Combine(dir.Path, adapter, AdapterFiles.ConfigFile)).PeftType);
        var keys = Fixtures.ReadTensors(dir.File(AdapterFiles.WeightsFile)).Keys.ToList();
        Assert.Contains(keys, k => k.EndsWith(".feed_forward_adapters.bottleneck.adapter_fusion_layer.value.weight"));
        Assert.All(keys, k => Assert.True(k.Contains(".bottleneck.adapter_fusion_layer.") || !k.Contains("_adapters."), k));

        var loaded = PeftModel.Load(TinyModels.Create(modelType, task), dir.Path, "f");
        Assert.Equal(new[] { "a", "b", "f" }, loaded.Adapters.Keys.Order());
        Assert.Equal("f", loaded.ActiveComposition()!.ToString());
        double diff = Fixtures.MaxAbsDiff(Output(loaded, ids), expected);
        Assert.True(diff < 1e-6, $"reloaded fusion differs by {diff}");
        Assert.Equal(0, loaded.TrainableParameters().Trainable);
    }

    [Fact]
    public void FusionAttendsOverTheAdaptersContributions()
    {
        var peft = WithFusion("gpt2", ModelTask.CausalLM);
        peft.SetComposition(Compose.Fuse("a", "b"));
        var layer = Handler<BottleneckAdapterLayer>(peft, SiteKind.FeedForwardOutput, BottleneckAdapterLayer.HandlerName);
        var p = layer.Fusion("f").named_parameters().ToDictionary(n => n.name, n => (Tensor)n.parameter);
        Assert.Equal(new[] { "key.bias", "key.weight", "query.bias", "query.weight", "value.weight" }, p.Keys.Order());
        var (h, x) = (randn(2, 4, 32), randn(2, 4, 32));
        using var _ = no_grad();
        var d = stack(new[] { layer.Adapter("a").call(h), layer.Adapter("b").call(h) }, 2);                 // [B, T, 2, H]
        var q = nn.functional.linear(h, p["query.weight"], p["query.bias"]);
        var k = nn.functional.linear(d, p["key.weight"], p["key.bias"]);
        var weights = (q.unsqueeze(2) * k).sum(-1).softmax(-1);                                               // [B, T, 2]
        var expected = h + (weights.unsqueeze(-1) * nn.functional.linear(d, p["value.weight"])).sum(2);
        Assert.True(Fixtures.MaxAbsDiff(layer.call(h, x), expected) < 1e-5);

        // At the attention sites only b (Houlsby) is present: the softmax over one adapter is 1.
        var attention = Handler<BottleneckAdapterLayer>(peft, SiteKind.AttentionOutput, BottleneckAdapterLayer.HandlerName);
        var value = attention.Fusion("f").Value!.weight!;
        Assert.True(Fixtures.MaxAbsDiff(value, eye(32)) < 2e-6, "the value projection starts at the identity");
        Assert.True(Fixtures.MaxAbsDiff(attention.call(h, x), h + nn.functional.linear(attention.Adapter("b").call(h), value)) < 1e-5);
    }

    [Fact]
    public void StaticFusionHasNoValueProjectionAndNoRegularisation()
    {
        var peft = WithFusion("bert", ModelTask.Base, FusionConfig.Static("a", "b"));
        var layer = Handler<BottleneckAdapterLayer>(peft, SiteKind.FeedForwardOutput, BottleneckAdapterLayer.HandlerName);
        Assert.Null(layer.Fusion("f").Value);
        Assert.Equal(0, peft.FusionRegularizationLoss("f").item<float>());
        var dynamic = WithFusion("bert", ModelTask.Base);
        Assert.InRange(dynamic.FusionRegularizationLoss("f").item<float>(), 0, 1e-6);
        Scramble(dynamic, "f", 4);
        Assert.True(dynamic.FusionRegularizationLoss("f").item<float>() > 0.1);
    }

    [Fact]
    public void FusionWeightsAloneLoadOntoAModelHoldingTheAdapters()
    {
        var peft = WithFusion("llama", ModelTask.CausalLM);
        Scramble(peft, "f", 5);
        peft.SetAdapter("f");
        var ids = TinyModels.RandomIds(2, 6);
        var expected = Output(peft, ids);
        using var dir = Fixtures.TempDir();
        peft.SaveAdapter(Path.Combine(dir.Path, "a"), "a");
        peft.SaveAdapter(Path.Combine(dir.Path, "b"), "b");
        peft.SaveAdapter(Path.Combine(dir.Path, "fusion-only"), "f");
        var loaded = PeftModel.Load(TinyModels.Create("llama", ModelTask.CausalLM), Path.Combine(dir.Path, "a"), "a");
        loaded.LoadAdapter(Path.Combine(dir.Path, "b"), "b");
        loaded.LoadAdapter(Path.Combine(dir.Path, "fusion-only"), "abc");
        loaded.SetComposition(Compose.Fuse("a", "b"));
        Assert.True(Fixtures.MaxAbsDiff(Output(loaded, ids), expected) < 1e-6);
    }

    [Fact]
    public void DeletingAFusedAdapterNeedsTheFusionGoneFirst()
    {
        var peft = WithFusion("distilbert", ModelTask.Base);
        var error = Assert.Throws<InvalidOperationException>(() => peft.DeleteAdapter("a"));
        Assert.Contains("fused by f", error.Message);
        Assert.Contains("a", peft.Adapters.Keys);
        peft.DeleteAdapter("f");
        peft.DeleteAdapter("a");
        Assert.Equal(new[] { "b" }, peft.Adapters.Keys);
        Assert.Throws<ArgumentException>(() => peft.SetComposition(Compose.Fuse("a", "b")));
    }

    public static IEnumerable<object[]> BadFusions() => new[]
    {
        new object[] { new FusionConfig { Adapters = new[] { "a" } }, "at least two" },
        new object[] { new FusionConfig { Adapters = new[] { "a", "a" } }, "twice" },
        new object[] { new FusionConfig { Adapters = new[] { "a", "zzz" } }, "zzz" },
        new object[] { new FusionConfig { Adapters = new[] { "a", "lora" } }, "LORA" },
        new object[] { new FusionConfig { Adapters = new[] { "a", "b" }, DropoutProb = 2 }, "dropout_prob" },
    };

    [Theory]
    [MemberData(nameof(BadFusions))]
    public void BadFusionConfigsNameTheField(FusionConfig config, string message)
    {
        var peft = PeftModel.Create(TinyModels.Create("gpt2", ModelTask.CausalLM), BottleneckConfig.Pfeiffer(), "a");
        peft.AddAdapter("b", BottleneckConfig.Pfeiffer());
        peft.AddAdapter("lora", new LoraConfig());
        var error = Assert.Throws<ConfigException>(() => peft.AddAdapter("f", config));
        Assert.Contains(message, error.Message);
        Assert.Equal(message == "dropout_prob" ? "dropout_prob" : "adapters", error.Field);
        Assert.DoesNotContain("f", peft.Adapters.Keys);
    }
}
