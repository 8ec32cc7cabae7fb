using PeftSharp.Models;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.Lora;
using static PeftSharp.Tests.Tuners.TunerTesting;

namespace PeftSharp.Tests.Tuners;

/// <summary>PiSSA/OLoRA adapters are saved as plain LoRA that applies to the original base, as PEFT's weight conversion.</summary>
public class PissaConversionTests
{
    static readonly TorchSharp.torch.Tensor Ids = TinyModels.RandomIds(2, 6);

    [Theory]
    [InlineData("llama", "pissa", false, false)]
    [InlineData("llama", "olora", false, false)]
    [InlineData("llama", "pissa_niter_4", false, false)]
    [InlineData("llama", "pissa", true, false)]
    [InlineData("llama", "olora", true, true)]
    [InlineData("gpt2", "pissa", false, false)]
    [InlineData("gpt2", "olora", true, false)]
    public void TrainedAdapterReloadsOntoTheOriginalBase(string modelType, string init, bool rsLora, bool dora)
    {
        var baseOutput = Output(TinyModels.Create(modelType, ModelTask.CausalLM), Ids);
        string small = modelType == "gpt2" ? "c_proj" : "v_proj";
        var config = new LoraConfig
        {
            R = 4, LoraAlpha = 8, InitLoraWeights = init, UseRsLora = rsLora, UseDora = dora,
            Targets = new TargetPatterns { Names = modelType == "gpt2" ? new[] { "c_attn", "c_proj" } : new[] { "q_proj", "v_proj" } },
            RankPattern = new Dictionary<string, int> { [small] = 2 },
            AlphaPattern = new Dictionary<string, double> { [small] = 3 },
        };
        var peft = PeftModel.Create(TinyModels.Create(modelType, ModelTask.CausalLM), config);
        Assert.True(Fixtures.MaxAbsDiff(Output(peft, Ids), baseOutput) < 1e-3, "the init keeps the output");
        Train(peft, Ids);
        var trained = Output(peft, Ids);
        Assert.True(Fixtures.MaxAbsDiff(trained, baseOutput) > 1e-3, "training moved the output");

        using var dir = Fixtures.TempDir();
        peft.SaveAdapter(dir.Path);
        var saved = (LoraConfig)PeftMethods.ReadConfig(dir.File(AdapterFiles.ConfigFile));
        double alphaFactor = rsLora ? Math.Sqrt(2) : 2;
        Assert.Equal("true", saved.InitLoraWeights);
        Assert.Equal(8, saved.R);
        Assert.Equal(8 * alphaFactor, saved.LoraAlpha, 9);
        Assert.Equal(4, saved.RankPattern[small]);
        Assert.Equal(3 * alphaFactor, saved.AlphaPattern[small], 9);
        Assert.Empty(saved.IgnoredFields);
        var tensors = Fixtures.ReadTensors(dir.File(AdapterFiles.WeightsFile));
        var layer = LoraLayers(peft).First(l => l.Key.EndsWith("." + small));
        var (a, b) = Factors(layer.Value, "default");
        var (a0, b0) = layer.Value.InitialFactors("default")!.Value;
        string key = AdapterFiles.FileKey(layer.Key, "");
        Assert.Equal(new[] { 4L, a.shape[1] }, tensors[key + "lora_A.weight"].shape);
        Assert.True(Fixtures.MaxAbsDiff(tensors[key + "lora_A.weight"], TorchSharp.torch.cat(new[] { a, a0 }, 0)) == 0);
        Assert.True(Fixtures.MaxAbsDiff(tensors[key + "lora_B.weight"], TorchSharp.torch.cat(new[] { b, -b0 }, 1)) == 0);

        var loaded = PeftModel.Load(TinyModels.Create(modelType, ModelTask.CausalLM), dir.Path);
        double diff = Fixtures.MaxAbsDiff(Output(loaded, Ids), trained);
        Assert.True(diff < 1e-4, $"converted adapter on the original base differs from the trained model by {diff}");
        using (loaded.DisableAdapters())
            Assert.True(Fixtures.MaxAbsDiff(Output(loaded, Ids), baseOutput) == 0, "loading a converted adapter leaves the base alone");
    }

    [Fact]
    public void DefaultInitAdapterIsSavedUnchanged()
    {
        var peft = PeftModel.Create(TinyModels.Create("llama", ModelTask.CausalLM), new LoraConfig { R = 4, LoraAlpha = 8 });
        Train(peft, Ids);
        Assert.All(LoraLayers(peft).Values, l => Assert.Null(l.InitialFactors("default")));
        using var dir = Fixtures.TempDir();
        peft.SaveAdapter(dir.Path);
        var saved = (LoraConfig)PeftMethods.ReadConfig(dir.File(AdapterFiles.ConfigFile));
        Assert.Equal((4, 8.0, "true"), (saved.R, saved.LoraAlpha, saved.InitLoraWeights));
        var tensors = Fixtures.ReadTensors(dir.File(AdapterFiles.WeightsFile));
        foreach (var (path, layer) in LoraLayers(peft))
            foreach (var (key, value) in layer.AdapterState("default"))
                Assert.True(Fixtures.MaxAbsDiff(tensors[AdapterFiles.FileKey(path, key)], value) == 0, $"{path}.{key} changed on saving");
    }

    [Fact]
    public void DeletingAPissaAdapterForgetsItsInitialFactors()
    {
        var peft = PeftModel.Create(TinyModels.Create("llama", ModelTask.CausalLM), new LoraConfig { R = 2, InitLoraWeights = "pissa" }, "p");
        peft.AddAdapter("q", new LoraConfig { R = 2 });
        var layer = LoraLayers(peft).Values.First();
        Assert.NotNull(layer.InitialFactors("p"));
        peft.DeleteAdapter("p");
        Assert.Null(layer.InitialFactors("p"));
    }
}
