using PeftSharp.Models;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.Lora;

namespace PeftSharp.Tests.Tuners;

/// <summary>Which modules a LoRA config adapts, with PEFT's rules for target_modules, exclude_modules and layer selection.</summary>
public class TargetingTests
{
    static List<string> Adapted(TargetPatterns targets, string modelType = "llama", ModelTask task = ModelTask.CausalLM)
    {
        var peft = PeftModel.Create(TinyModels.Create(modelType, task), new LoraConfig { R = 2, Targets = targets });
        return peft.AdapterModules().Where(m => m.Module is LoraLayer or LoraEmbedding).Select(m => m.Path).ToList();
    }

    static ConfigException Refused(TargetPatterns targets, string modelType = "llama") =>
        Assert.Throws<ConfigException>(() => PeftModel.Create(TinyModels.Create(modelType, ModelTask.CausalLM), new LoraConfig { R = 2, Targets = targets }));

    [Fact]
    public void ListEntriesMatchTheWholePathOrADotSuffix()
    {
        Assert.Equal(new[] { "model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.q_proj" }, Adapted(new TargetPatterns { Names = new[] { "self_attn.q_proj" } }));
        Assert.Equal(new[] { "model.layers.1.mlp.up_proj" }, Adapted(new TargetPatterns { Names = new[] { "model.layers.1.mlp.up_proj" } }));
        Assert.Equal(4, Adapted(new TargetPatterns { Names = new[] { "q_proj", "v_proj" } }).Count);
        Refused(new TargetPatterns { Names = new[] { "proj" } });                    // "q_proj" ends with "proj" but not with ".proj"
        Refused(new TargetPatterns { Names = new[] { "layers.0" } });                // a block is not a linear layer
    }

    [Fact]
    public void ASingleStringIsARegexThatMustMatchTheWholePath()
    {
        Assert.Equal(new[] { "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj" },
            Adapted(new TargetPatterns { Regex = @".*\.0\.self_attn\.(q|k)_proj" }));
        Refused(new TargetPatterns { Regex = "q_proj" });                            // matches part of the path only
    }

    [Fact]
    public void ARegexTargetIsReadFromAStringInTheConfig()
    {
        var reader = ConfigReader.Parse("""{"peft_type": "LORA", "r": 2, "target_modules": ".*\\.1\\..*_proj", "exclude_modules": ["o_proj"]}""", "test");
        var targets = LoraConfig.Read(reader).Targets!;
        Assert.Equal(@".*\.1\..*_proj", targets.Regex);
        Assert.Equal(6, Adapted(targets).Count);                                     // layer 1's seven projections but o_proj
    }

    [Theory]
    [InlineData("llama", 14, "lm_head", "model.embed_tokens")]
    [InlineData("gpt2", 8, "lm_head", "transformer.wte")]
    public void AllLinearTakesEveryLinearLayerButTheOutputHead(string modelType, int count, string head, string embedding)
    {
        var adapted = Adapted(new TargetPatterns { Names = new[] { TargetPatterns.AllLinear } }, modelType);
        Assert.Equal(count, adapted.Count);
        Assert.DoesNotContain(head, adapted);
        Assert.DoesNotContain(embedding, adapted);
    }

    [Fact]
    public void AllLinearLeavesAClassifierHeadToModulesToSave()
    {
        var adapted = Adapted(new TargetPatterns { Names = new[] { TargetPatterns.AllLinear } }, "bert", ModelTask.SequenceClassification);
        Assert.DoesNotContain("classifier", adapted);
        Assert.Contains("bert.encoder.layer.1.output.dense", adapted);
    }

    [Fact]
    public void ExcludeModulesRemovesMatchesByNameOrRegex()
    {
        var byName = Adapted(new TargetPatterns { Names = new[] { TargetPatterns.AllLinear }, ExcludeNames = new[] { "down_proj", "self_attn.k_proj" } });
        Assert.Equal(10, byName.Count);
        Assert.DoesNotContain(byName, p => p.EndsWith("down_proj") || p.EndsWith("k_proj"));
        var byRegex = Adapted(new TargetPatterns { Names = new[] { "q_proj", "v_proj" }, ExcludeRegex = @"model\.layers\.1\..*" });
        Assert.Equal(new[] { "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj" }, byRegex);
    }

    [Fact]
    public void LayersToTransformSelectsBlocksByIndex()
    {
        Assert.Equal(new[] { "model.layers.1.self_attn.q_proj" },
            Adapted(new TargetPatterns { Names = new[] { "q_proj" }, LayersToTransform = new[] { 1 }, LayersPattern = new[] { "layers" } }));
        Assert.Equal(new[] { "transformer.h.1.attn.c_attn" },
            Adapted(new TargetPatterns { Names = new[] { "c_attn" }, LayersToTransform = new[] { 1 }, LayersPattern = new[] { "h" } }, "gpt2"));
        Assert.Equal(new[] { "transformer.h.0.attn.c_attn" }, Adapted(new TargetPatterns { Names = new[] { "c_attn" }, LayersToTransform = new[] { 0 } }, "gpt2"));
        var error = Refused(new TargetPatterns { Names = new[] { "q_proj" }, LayersToTransform = new[] { 0 }, LayersPattern = new[] { "h" } });
        Assert.Contains("in layers [0]", error.Message);
    }

    [Fact]
    public void RankAndAlphaPatternsApplyPerModule()
    {
        var config = new LoraConfig
        {
            R = 8, LoraAlpha = 8,
            RankPattern = new Dictionary<string, int> { ["v_proj"] = 2, [@"layers\.1\.self_attn\.q_proj"] = 4 },
            AlphaPattern = new Dictionary<string, double> { ["q_proj"] = 12 },
        };
        var peft = PeftModel.Create(TinyModels.Create("llama", ModelTask.CausalLM), config);
        var layers = TunerTesting.LoraLayers(peft);
        void Expect(string path, int rank, double alpha)
        {
            var settings = layers[path].Settings("default");
            Assert.Equal((rank, alpha, alpha / rank), (settings.Rank, settings.Alpha, settings.Scaling));
            Assert.Equal(rank, TunerTesting.Factors(layers[path], "default").A.shape[0]);
        }
        Expect("model.layers.0.self_attn.q_proj", 8, 12);
        Expect("model.layers.1.self_attn.q_proj", 4, 12);
        Expect("model.layers.0.self_attn.v_proj", 2, 8);
        Expect("model.layers.1.self_attn.v_proj", 2, 8);
    }

    [Fact]
    public void NothingMatchingIsAnErrorListingCloseNames()
    {
        var error = Refused(new TargetPatterns { Names = new[] { "q_prj", "vproj" } });
        Assert.Equal("target_modules", error.Field);
        Assert.Contains("no module of the model matches [q_prj, vproj]", error.Message);
        Assert.Contains("closest module names: ", error.Message);
        Assert.Contains("q_proj", error.Message[error.Message.IndexOf("closest", StringComparison.Ordinal)..].Split('(')[0]);
    }
}
