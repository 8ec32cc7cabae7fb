using PeftSharp.Models;
using PeftSharp.Tuners.Common;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.IA3;

/// <summary>Attaches (IA)^3 vectors (peft_type "IA3").</summary>
public sealed class IA3Method : PeftMethod
{
    public override string PeftType => "IA3";
    public override string Description => "(IA)^3: learned vectors rescaling keys, values and feed-forward inputs (Liu et al. 2022)";

    public override PeftConfig ReadConfig(ConfigReader reader) => IA3Config.Read(reader);

    public override PeftConfig Attach(PeftModel peft, string name, PeftConfig config)
    {
        var ia3 = (IA3Config)config;
        var model = peft.Model;
        IA3Config.Defaults.TryGetValue(model.Config.ModelType, out var defaults);
        var targets = ia3.Targets ?? (defaults.Targets is null
            ? throw new ConfigException("IA3 config", "target_modules", $"must be given: there is no default for model type '{model.Config.ModelType}'")
            : new TargetPatterns { Names = defaults.Targets });
        var feedforward = ia3.FeedforwardModules ?? (ia3.Targets is null && defaults.Feedforward is not null
            ? new TargetPatterns { Names = defaults.Feedforward }
            : new TargetPatterns { Names = Array.Empty<string>() });
        bool anyConv1D = false;
        foreach (var (path, module) in Targeting.Find(model, targets, m => LinearWeights.IsLinear(m) || m is AdapterLayer, "IA3"))
        {
            bool isFeedforward = feedforward.Regex is { } regex
                ? System.Text.RegularExpressions.Regex.IsMatch(path, $"^(?:{regex})$")
                : (feedforward.Names ?? Array.Empty<string>()).Any(n => path.EndsWith(n, StringComparison.Ordinal));
            IA3Layer layer;
            switch (module)
            {
                case IA3Layer existing:
                    if (existing.IsFeedforward != isFeedforward)
                        throw new ConfigException("IA3 config", "feedforward_modules", $"'{path}' is {(existing.IsFeedforward ? "" : "not ")}feed-forward for an existing adapter");
                    layer = existing;
                    break;
                case AdapterLayer other:
                    throw new ConfigException("IA3 config", "target_modules", $"'{path}' is already adapted by {other.GetType().Name}; one module takes one kind of adapter");
                default:
                    layer = new IA3Layer((nn.Module<Tensor, Tensor>)module, isFeedforward);
                    ModuleTree.Replace(model, path, layer);
                    break;
            }
            anyConv1D |= LinearWeights.IsFanInFanOut(layer.base_layer);
            layer.AddAdapter(name, ia3.InitIA3Weights);
        }
        return ia3 with { Targets = targets, FeedforwardModules = feedforward, FanInFanOut = anyConv1D };
    }
}
