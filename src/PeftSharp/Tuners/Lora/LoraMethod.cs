using PeftSharp.Models;
using PeftSharp.Tuners.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Lora;

/// <summary>Attaches LoRA / DoRA adapters (peft_type "LORA") to linear and embedding layers.</summary>
public sealed class LoraMethod : PeftMethod
{
    public override string PeftType => "LORA";
    public override string Description => "LoRA: low-rank update B A beside frozen weights (Hu et al. 2021); DoRA, rsLoRA, PiSSA/OLoRA init";

    public override PeftConfig ReadConfig(ConfigReader reader) => LoraConfig.Read(reader);

    public override PeftConfig Attach(PeftModel peft, string name, PeftConfig config)
    {
        var lora = (LoraConfig)config;
        var model = peft.Model;
        var targets = lora.Targets ?? DefaultTargets(model);
        var matches = Targeting.Find(model, targets, IsCandidate, "LoRA");
        bool anyConv1D = false;
        foreach (var (path, module) in matches)
        {
            var (rank, alpha) = lora.RankAndAlphaFor(path);
            double scaling = lora.Scaling(rank, alpha);
            switch (module)
            {
                case Embedding embedding:
                    RejectDoraOnEmbedding(lora, path);
                    var wrappedEmbedding = new LoraEmbedding(embedding);
                    ModuleTree.Replace(model, path, wrappedEmbedding);
                    wrappedEmbedding.AddAdapter(name, rank, scaling, lora.InitLoraWeights);
                    break;
                case LoraEmbedding existingEmbedding:
                    RejectDoraOnEmbedding(lora, path);
                    existingEmbedding.AddAdapter(name, rank, scaling, lora.InitLoraWeights);
                    break;
                case LoraLayer existing:
                    anyConv1D |= LinearWeights.IsFanInFanOut(existing.base_layer);
                    existing.AddAdapter(name, Settings(lora, rank, alpha, scaling, existing.base_layer), lora.InitLoraWeights, lora.LoraBias);
                    break;
                case AdapterLayer other:
                    throw new ConfigException("LoRA config", "target_modules", $"'{path}' is already adapted by {other.GetType().Name}; one module takes one kind of adapter");
                default:
                    anyConv1D |= LinearWeights.IsFanInFanOut(module);
                    var layer = new LoraLayer((nn.Module<Tensor, Tensor>)module);
                    ModuleTree.Replace(model, path, layer);
                    layer.AddAdapter(name, Settings(lora, rank, alpha, scaling, module), lora.InitLoraWeights, lora.LoraBias);
                    break;
            }
        }
        if (lora.Bias == "all") AttachOtherBiases(model, name, lora);
        return lora with { Targets = targets, FanInFanOut = anyConv1D };
    }

    static bool IsCandidate(nn.Module module) =>
        LinearWeights.IsLinear(module) || module is Embedding or LoraLayer or LoraEmbedding || module is AdapterLayer;

    static LoraAdapterSettings Settings(LoraConfig lora, int rank, double alpha, double scaling, nn.Module baseLayer) =>
        new(rank, alpha, scaling, lora.LoraDropout, lora.UseDora, lora.Bias != "none" && LinearWeights.Bias(baseLayer) is not null);

    static void RejectDoraOnEmbedding(LoraConfig lora, string path)
    {
        if (lora.UseDora) throw new ConfigException("LoRA config", "use_dora", $"DoRA applies to linear layers; '{path}' is an embedding");
    }

    /// <summary>bias="all": every bias outside the LoRA layers and the head trains too, per adapter (as BitFit).</summary>
    static void AttachOtherBiases(TransformerModel model, string name, LoraConfig config)
    {
        var chosen = Selection.ParameterSelection.Candidates(model)
            .Where(c => Selection.ParameterSelection.Has(c.Module, "bias"))
            .Where(c => !ModulesToSave.Covers(c.Path, config, model))
            .ToList();
        if (chosen.Count > 0) Selection.ParameterSelection.Attach(model, name, chosen, _ => new[] { "bias" }, "LoRA");
    }

    static TargetPatterns DefaultTargets(TransformerModel model) =>
        LoraConfig.DefaultTargets.TryGetValue(model.Config.ModelType, out var names)
            ? new TargetPatterns { Names = names }
            : throw new ConfigException("LoRA config", "target_modules", $"must be given: there is no default for model type '{model.Config.ModelType}'");
}
