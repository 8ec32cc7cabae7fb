using System.Text.Json.Nodes;
using PeftSharp.IO;
using PeftSharp.Models;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.IA3;
using PeftSharp.Tuners.Lora;
using static PeftSharp.Tests.Tuners.TunerTesting;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners;

/// <summary>Adapters that do not fit a model fail loudly, name what is wrong, and leave no half-attached adapter behind.</summary>
public class AdapterLoadingErrorTests
{
    static readonly Tensor Ids = TinyModels.RandomIds(1, 5);

    /// <summary>A tiny Llama whose hidden size is <paramref name="hidden"/> (the test models use 32).</summary>
    static TransformerModel Llama(int hidden)
    {
        var json = JsonNode.Parse(TinyModels.Configs["llama"])!.AsObject();
        json["hidden_size"] = hidden;
        return AutoModel.Create(TinyModels.Family("llama").ParseConfig(new ConfigReader(json, "test")), ModelTask.CausalLM, seed: 7);
    }

    /// <summary>Writes a trained LoRA adapter of the 32-wide tiny Llama and returns its directory.</summary>
    static TempDirectory SavedAdapter()
    {
        var peft = PeftModel.Create(TinyModels.Create("llama", ModelTask.CausalLM), new LoraConfig { R = 4, InitLoraWeights = "false" });
        var dir = Fixtures.TempDir();
        peft.SaveAdapter(dir.Path);
        return dir;
    }

    [Fact]
    public void AnAdapterForAnotherShapeNamesTheModuleAndBothShapes()
    {
        using var dir = SavedAdapter();
        var error = Assert.Throws<WeightMismatchException>(() => PeftModel.Load(Llama(48), dir.Path));
        Assert.Contains(dir.File(AdapterFiles.WeightsFile), error.Message);
        Assert.Contains("module 'model.layers.0.self_attn.q_proj'", error.Message);
        Assert.Contains("'lora_A.weight': file has [4, 32], this layer expects [4, 48]", error.Message);
    }

    [Fact]
    public void AFailedLoadLeavesNoHalfAttachedAdapter()
    {
        using var dir = SavedAdapter();
        var peft = PeftModel.Create(Llama(48), new IA3Config { Targets = new TargetPatterns { Names = new[] { "down_proj" } } }, "ia3");
        var before = Output(peft, Ids);
        Assert.Throws<WeightMismatchException>(() => peft.LoadAdapter(dir.Path, "lora"));
        Assert.Equal(new[] { "ia3" }, peft.Adapters.Keys);
        Assert.DoesNotContain(peft.AdapterModules(), m => m.Module.AdapterNames.Contains("lora"));
        Assert.True(Fixtures.MaxAbsDiff(Output(peft, Ids), before) == 0);

        var model = Llama(48);
        var baseOutput = Output(model, Ids);
        Assert.Throws<WeightMismatchException>(() => PeftModel.Load(model, dir.Path));
        Assert.DoesNotContain(model.named_modules(), m => m.module is IAdapterModule adapter && adapter.AdapterNames.Count > 0);
        Assert.True(Fixtures.MaxAbsDiff(Output(model, Ids), baseOutput) == 0, "the model still computes its base output");
    }

    [Fact]
    public void UnexpectedAndMissingTensorsAreNamed()
    {
        using var dir = SavedAdapter();
        var tensors = Fixtures.ReadTensors(dir.File(AdapterFiles.WeightsFile));
        const string extra = "base_model.model.model.layers.0.mlp.up_proj.lora_A.weight";
        tensors[extra] = zeros(4, 32);
        SafetensorsWriter.Save(dir.File(AdapterFiles.WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        var unexpected = Assert.Throws<WeightMismatchException>(() => PeftModel.Load(TinyModels.Create("llama", ModelTask.CausalLM), dir.Path));
        Assert.Contains($"fit no adapted module of this model: {extra}", unexpected.Message);

        tensors.Remove(extra);
        const string gone = "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight";
        tensors.Remove(gone);
        SafetensorsWriter.Save(dir.File(AdapterFiles.WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        var missing = Assert.Throws<WeightMismatchException>(() => PeftModel.Load(TinyModels.Create("llama", ModelTask.CausalLM), dir.Path));
        Assert.Contains("module 'model.layers.1.self_attn.v_proj': missing tensor(s) lora_B.weight", missing.Message);
    }

    [Fact]
    public void AnAttachFailingPartWayLeavesNothingBehind()
    {
        var peft = PeftModel.Create(TinyModels.Create("llama", ModelTask.CausalLM), new IA3Config { Targets = new TargetPatterns { Names = new[] { "v_proj" } } }, "ia3");
        // q_proj takes LoRA first, then v_proj refuses it: q_proj must not keep a stray "lora".
        var error = Assert.Throws<ConfigException>(() => peft.AddAdapter("lora", new LoraConfig { R = 2, Targets = new TargetPatterns { Names = new[] { "q_proj", "v_proj" } } }));
        Assert.Contains("already adapted by IA3Layer", error.Message);
        Assert.DoesNotContain(peft.AdapterModules(), m => m.Module.AdapterNames.Contains("lora"));
        peft.AddAdapter("lora", new LoraConfig { R = 2, Targets = new TargetPatterns { Names = new[] { "q_proj" } } });
        Assert.Equal(2, peft.AdapterModules().Count(m => m.Module.AdapterNames.Contains("lora")));
    }

    [Fact]
    public void MissingFilesAndDirectoriesAreNamed()
    {
        using var dir = Fixtures.TempDir();
        var model = TinyModels.Create("llama", ModelTask.CausalLM);
        Assert.IsType<ConfigException>(Assert.ThrowsAny<PeftSharpException>(() => PeftModel.Load(model, Path.Combine(dir.Path, "nowhere"))));
        var noWeights = Assert.Throws<CheckpointFormatException>(() => PeftModel.Load(model, dir.Path));
        Assert.Contains(AdapterFiles.WeightsFile, noWeights.Message);
    }
}
