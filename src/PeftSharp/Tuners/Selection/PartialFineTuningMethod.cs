using PeftSharp.Models;
using PeftSharp.Tuners.Common;

namespace PeftSharp.Tuners.Selection;

/// <summary>Attaches partial fine-tuning: trainable copies of every parameterised layer in the top K blocks.</summary>
public sealed class PartialFineTuningMethod : PeftMethod
{
    public override string PeftType => "PARTIAL_FT";
    public override string Description => "Partial fine-tuning: train the top K blocks and freeze the rest (Lee et al. 2019)";

    public override PeftConfig ReadConfig(ConfigReader reader) => PartialFineTuningConfig.Read(reader, full: false);

    public override PeftConfig Attach(PeftModel peft, string name, PeftConfig config)
    {
        var partial = (PartialFineTuningConfig)config;
        var model = peft.Model;
        int layers = model.LayerCount;
        if (partial.TrainableLayers > layers)
            throw new ConfigException("partial fine-tuning config", "trainable_layers", $"{partial.TrainableLayers} is more than the model's {layers} blocks");
        var top = Enumerable.Range(layers - partial.TrainableLayers, partial.TrainableLayers).ToHashSet();
        var chosen = ParameterSelection.Candidates(model)
            .Where(c => !ModulesToSave.Covers(c.Path, config, model))
            .Where(c => TargetPatterns.LayerIndex(c.Path) is int index ? top.Contains(index) : partial.TrainFinalNorm && IsFinalNorm(c.Path))
            .ToList();
        ParameterSelection.Attach(model, name, chosen, layer => layer.named_parameters(recurse: false).Select(p => p.name).ToList(), "partial fine-tuning");
        return partial;
    }

    /// <summary>The norm after the last block (Llama's model.norm, GPT-2's ln_f).</summary>
    static bool IsFinalNorm(string path)
    {
        string name = path.Split('.')[^1];
        return name is "norm" or "ln_f" or "final_layer_norm" or "final_layernorm";
    }
}

/// <summary>Attaches full fine-tuning: a trainable copy of every parameter (tied parameters share one copy).</summary>
public sealed class FullFineTuningMethod : PeftMethod
{
    public override string PeftType => "FULL_FT";
    public override string Description => "Full fine-tuning: every parameter trains (the baseline)";

    public override PeftConfig ReadConfig(ConfigReader reader) => PartialFineTuningConfig.Read(reader, full: true);

    public override PeftConfig Attach(PeftModel peft, string name, PeftConfig config)
    {
        var chosen = ParameterSelection.Candidates(peft.Model).Where(c => !ModulesToSave.Covers(c.Path, config, peft.Model)).ToList();
        ParameterSelection.Attach(peft.Model, name, chosen, layer => layer.named_parameters(recurse: false).Select(p => p.name).ToList(), "full fine-tuning");
        return config;
    }
}
