using PeftSharp.Models;
using PeftSharp.Modules;
using PeftSharp.Tuners.Common;
using TorchSharp.Modules;

namespace PeftSharp.Tuners.Selection;

/// <summary>Attaches LayerNorm-tuning adapters: per-adapter copies of norm weights and biases.</summary>
public sealed class LnTuningMethod : PeftMethod
{
    public override string PeftType => "LN_TUNING";
    public override string Description => "LayerNorm tuning: train only the normalisation layers (Zhao et al. 2024)";

    public override PeftConfig ReadConfig(ConfigReader reader) => LnTuningConfig.Read(reader);

    public override PeftConfig Attach(PeftModel peft, string name, PeftConfig config)
    {
        var ln = (LnTuningConfig)config;
        var norms = ParameterSelection.Candidates(peft.Model).Where(c => ParameterSelection.BaseOf(c.Module) is LayerNorm or RmsNorm);
        var chosen = (ln.Targets is { } targets ? norms.Where(c => targets.Matches(c.Path)) : norms).ToList();
        if (chosen.Count == 0)
            throw new ConfigException("LN tuning config", "target_modules", $"matches no LayerNorm/RMSNorm of {peft.Model.Architecture}");
        ParameterSelection.Attach(peft.Model, name, chosen, layer => layer.named_parameters(recurse: false).Select(p => p.name).ToList(), "LN tuning", "ln_tuning_layers.");
        return ln;
    }
}
