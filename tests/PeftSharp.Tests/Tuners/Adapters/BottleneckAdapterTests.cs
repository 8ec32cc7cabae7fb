using PeftSharp.Models;
using PeftSharp.Modules;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Adapters;
using PeftSharp.Tuners.Common;
using TorchSharp.Modules;
using static PeftSharp.Tests.Tuners.Adapters.AdapterTesting;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners.Adapters;

/// <summary>Bottleneck adapters: placement, formulas, initialisations, layer selection, configs and their errors.</summary>
public class BottleneckAdapterTests
{
    public static IEnumerable<object[]> FamiliesAndPlacements() =>
        from type in TinyModels.Configs.Keys
        from placement in Enum.GetValues<BottleneckPlacement>()
        select new object[] { type, placement };

    [Theory]
    [MemberData(nameof(FamiliesAndPlacements))]
    public void PlacementChoosesTheSitesAndStartsAsTheBase(string modelType, BottleneckPlacement placement)
    {
        var ids = TinyModels.RandomIds(2, 6);
        var expected = Output(TinyModels.Create(modelType, ModelTask.Base), ids);
        var peft = PeftModel.Create(TinyModels.Create(modelType, ModelTask.Base), new BottleneckConfig { Placement = placement });
        var adapted = placement == BottleneckPlacement.Houlsby
            ? new[] { SiteKind.AttentionOutput, SiteKind.FeedForwardOutput }
            : new[] { SiteKind.FeedForwardOutput };
        var sites = Sites(peft.Model);
        foreach (var site in sites)
            Assert.Equal(adapted.Contains(site.Kind), site.Handler(BottleneckAdapterLayer.HandlerName) is BottleneckAdapterLayer);
        Assert.Equal(peft.Model.LayerCount, sites.Count(s => s.Kind == SiteKind.FeedForwardOutput && s.HandlerNames.Count == 1));
        Assert.True(Fixtures.MaxAbsDiff(Output(peft, ids), expected) < 1e-6, "identity init must leave the output unchanged");
    }

    [Fact]
    public void SavedKeysNameTheSiteTheHandlerAndTheTensor()
    {
        var peft = PeftModel.Create(TinyModels.Create("bert", ModelTask.SequenceClassification),
            BottleneckConfig.Houlsby() with { InvAdapter = "nice", LearnedScaling = true });
        using var dir = Fixtures.TempDir();
        peft.SaveAdapter(dir.Path);
        var keys = Fixtures.ReadTensors(dir.File(AdapterFiles.WeightsFile)).Keys.ToHashSet();
        const string block = "base_model.model.bert.encoder.layer.1";
        foreach (string site in new[] { $"{block}.attention.output.attention_adapters", $"{block}.output.feed_forward_adapters" })
            foreach (string tensor in new[] { "adapter_down.weight", "adapter_down.bias", "adapter_up.weight", "adapter_up.bias", "scaling" })
                Assert.Contains($"{site}.bottleneck.{tensor}", keys);
        foreach (string net in new[] { "F", "G" })
            foreach (string tensor in new[] { "0.weight", "0.bias", "2.weight", "2.bias" })
                Assert.Contains($"base_model.model.bert.embedding_adapters.invertible_adapters.{net}.{tensor}", keys);
        Assert.Contains("base_model.model.classifier.weight", keys);
        Assert.Equal(2 * 2 * 5 + 8 + 2, keys.Count);
        var config = (BottleneckConfig)PeftMethods.ReadConfig(dir.File(AdapterFiles.ConfigFile));
        Assert.Equal("BOTTLENECK", config.PeftType);
        Assert.Equal(BottleneckPlacement.Houlsby, config.Placement);
    }

    [Fact]
    public void SequentialAdapterAddsTheScaledBottleneckOfTheSublayerOutput()
    {
        var peft = PeftModel.Create(TinyModels.Create("llama", ModelTask.CausalLM),
            new BottleneckConfig { InitWeights = "bert", NonLinearity = "gelu", Scaling = 0.5, ReductionFactor = 4 });
        var layer = Handler<BottleneckAdapterLayer>(peft, SiteKind.FeedForwardOutput, BottleneckAdapterLayer.HandlerName);
        var p = layer.Adapter("default").named_parameters().ToDictionary(n => n.name, n => (Tensor)n.parameter);
        Assert.Equal(new long[] { 8, 32 }, p["adapter_down.weight"].shape);
        var (h, x) = (randn(2, 5, 32), randn(2, 5, 32));
        using var _ = no_grad();
        var bottleneck = nn.functional.gelu(nn.functional.linear(h, p["adapter_down.weight"], p["adapter_down.bias"]));
        var expected = h + 0.5 * nn.functional.linear(bottleneck, p["adapter_up.weight"], p["adapter_up.bias"]);
        Assert.True(Fixtures.MaxAbsDiff(layer.call(h, x), expected) < 1e-5);
    }

    [Fact]
    public void ParallelAdapterReadsTheSublayerInputWithScalingFour()
    {
        var config = BottleneckConfig.Parallel() with { InitWeights = "bert" };
        Assert.Equal(4, config.EffectiveScaling);
        Assert.Equal(2, config.EffectiveReductionFactor);
        var peft = PeftModel.Create(TinyModels.Create("gpt2", ModelTask.CausalLM), config);
        var layer = Handler<BottleneckAdapterLayer>(peft, SiteKind.FeedForwardOutput, BottleneckAdapterLayer.HandlerName);
        var p = layer.Adapter("default").named_parameters().ToDictionary(n => n.name, n => (Tensor)n.parameter);
        var (h, x) = (randn(2, 5, 32), randn(2, 5, 32));
        using var _ = no_grad();
        var bottleneck = nn.functional.relu(nn.functional.linear(x, p["adapter_down.weight"], p["adapter_down.bias"]));
        var expected = h + 4 * nn.functional.linear(bottleneck, p["adapter_up.weight"], p["adapter_up.bias"]);
        Assert.True(Fixtures.MaxAbsDiff(layer.call(h, x), expected) < 1e-5);
    }

    [Fact]
    public void BertInitDrawsSmallNormalWeightsAndMovesTheOutput()
    {
        var ids = TinyModels.RandomIds(2, 6);
        var baseOutput = Output(TinyModels.Create("bert", ModelTask.Base), ids);
        var peft = PeftModel.Create(TinyModels.Create("bert", ModelTask.Base), new BottleneckConfig { InitWeights = "bert", ReductionFactor = 1 });
        var weights = peft.AdapterParameters("default").Where(p => p.dim() == 2).ToList();
        double std = cat(weights.Select(w => w.flatten()).ToList()).std().item<float>();
        Assert.InRange(std, 0.015, 0.025);
        Assert.True(Fixtures.MaxAbsDiff(Output(peft, ids), baseOutput) > 1e-5);
    }

    [Fact]
    public void LayersToTransformSelectsBlocks()
    {
        var peft = PeftModel.Create(TinyModels.Create("distilbert", ModelTask.Base), BottleneckConfig.Houlsby() with { LayersToTransform = new[] { 1 } });
        var adapted = Sites(peft.Model).Where(s => s.HandlerNames.Count > 0).ToList();
        Assert.Equal(2, adapted.Count);
        Assert.All(adapted, s => Assert.Equal(1, s.LayerIndex));
        var error = Assert.Throws<ConfigException>(() =>
            PeftModel.Create(TinyModels.Create("distilbert", ModelTask.Base), new BottleneckConfig { LayersToTransform = new[] { 0, 5 } }));
        Assert.Equal("layers_to_transform", error.Field);
        Assert.Contains("5", error.Message);
    }

    [Fact]
    public void AdapterWeightsStayFloat32OnABfloat16Base()
    {
        var ids = TinyModels.RandomIds(2, 6);
        var model = TinyModels.Create("llama", ModelTask.CausalLM, ScalarType.BFloat16);
        var expected = Output(TinyModels.Create("llama", ModelTask.CausalLM, ScalarType.BFloat16), ids);
        var peft = PeftModel.Create(model, BottleneckConfig.Houlsby() with { InvAdapter = "nice" });
        Assert.All(peft.AdapterParameters("default"), p => Assert.Equal(ScalarType.Float32, p.dtype));
        var output = Output(peft, ids);
        Assert.Equal(ScalarType.BFloat16, output.dtype);
        Assert.Equal(0, Fixtures.MaxAbsDiff(output, expected));
        Scramble(peft, "default", 3);
        Assert.True(Fixtures.MaxAbsDiff(Output(peft, ids), expected) > 1e-3);
    }

    [Fact]
    public void ConfigRoundTripsThroughAdapterConfigJson()
    {
        var config = new BottleneckConfig
        {
            Placement = BottleneckPlacement.Parallel, ReductionFactor = 2.5, NonLinearity = "tanh", LearnedScaling = true, Dropout = 0.1,
            InitWeights = "bert", LayersToTransform = new[] { 0 }, InvAdapter = "nice", InvAdapterReductionFactor = 4, TaskType = "CAUSAL_LM",
        };
        var json = config.ToJson();
        Assert.Equal("learned", json["scaling"]!.GetValue<string>());
        Assert.Equal("parallel", json["placement"]!.GetValue<string>());
        var read = BottleneckConfig.Read(new ConfigReader(json, "test"));
        Assert.Equal(config with { IgnoredFields = read.IgnoredFields }, read with { LayersToTransform = config.LayersToTransform });
        Assert.Equal(new[] { 0 }, read.LayersToTransform);
        Assert.Empty(read.IgnoredFields);
        var parallel = BottleneckConfig.Read(new ConfigReader(BottleneckConfig.Parallel().ToJson(), "test"));
        Assert.Equal((2.0, 4.0, "relu"), (parallel.EffectiveReductionFactor, parallel.EffectiveScaling, parallel.EffectiveNonLinearity));
    }

    [Fact]
    public void LoadingAFileOfAnotherShapeNamesTheTensorAndBothShapes()
    {
        var peft = PeftModel.Create(TinyModels.Create("qwen2", ModelTask.CausalLM), new BottleneckConfig { ReductionFactor = 4 });
        using var dir = Fixtures.TempDir();
        peft.SaveAdapter(dir.Path);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(dir.File(AdapterFiles.ConfigFile)))!;
        json["reduction_factor"] = 8;
        File.WriteAllText(dir.File(AdapterFiles.ConfigFile), json.ToJsonString());
        var error = Assert.Throws<WeightMismatchException>(() => PeftModel.Load(TinyModels.Create("qwen2", ModelTask.CausalLM), dir.Path));
        Assert.Contains("feed_forward_adapters.bottleneck", error.Message);
        Assert.Matches(@"'adapter_down\.(weight|bias)': file has \[8(, 32)?\], this layer expects \[4(, 32)?\]", error.Message);
    }

    public static IEnumerable<object[]> BadConfigs() => new[]
    {
        new object[] { new BottleneckConfig { ReductionFactor = 64 }, "reduction_factor" },
        new object[] { new BottleneckConfig { ReductionFactor = 0 }, "reduction_factor" },
        new object[] { new BottleneckConfig { NonLinearity = "mish" }, "non_linearity" },
        new object[] { new BottleneckConfig { InvAdapter = "glow" }, "inv_adapter" },
        new object[] { new BottleneckConfig { InvAdapter = "nice", InvAdapterReductionFactor = 32 }, "inv_adapter_reduction_factor" },
        new object[] { new BottleneckConfig { InitWeights = "xavier" }, "init_weights" },
        new object[] { new BottleneckConfig { Dropout = 1 }, "dropout" },
        new object[] { new BottleneckConfig { Scaling = 2, LearnedScaling = true }, "scaling" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void BadConfigsNameTheField(BottleneckConfig config, string field)
    {
        var model = TinyModels.Create("bert", ModelTask.Base);
        var error = Assert.Throws<ConfigException>(() => PeftModel.Create(model, config));
        Assert.Equal(field, error.Field);
        Assert.Empty(Sites(model).SelectMany(s => s.HandlerNames));
    }

    [Theory]
    [InlineData("placement", "\"sideways\"")]
    [InlineData("scaling", "\"huge\"")]
    [InlineData("reduction_factor", "\"big\"")]
    [InlineData("non_linearity", "\"softplus\"")]
    public void BadFieldsInAdapterConfigJsonNameTheField(string field, string value)
    {
        var reader = ConfigReader.Parse($$"""{"peft_type": "BOTTLENECK", "{{field}}": {{value}}}""", "adapter_config.json");
        var error = Assert.Throws<ConfigException>(() => PeftMethods.For("BOTTLENECK").ReadConfig(reader));
        Assert.Equal(field, error.Field);
    }
}
