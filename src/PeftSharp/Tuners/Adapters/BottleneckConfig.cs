using System.Text.Json;
using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Modules;
using PeftSharp.Tuners.Common;

namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// Bottleneck adapters (Houlsby et al. 2019, Pfeiffer et al. 2021, He et al. 2022) with an optional invertible adapter
/// at the embeddings (MAD-X, Pfeiffer et al. 2020); adapter_config.json with peft_type "BOTTLENECK" and AdapterHub's
/// field names where AdapterHub has the concept (reduction_factor, non_linearity, scaling, dropout, init_weights,
/// inv_adapter, inv_adapter_reduction_factor). Unset fields take the placement's AdapterHub defaults.
/// </summary>
public sealed record BottleneckConfig : PeftConfig
{
    public override string PeftType => "BOTTLENECK";

    /// <summary>"placement": houlsby (attention and feed-forward), pfeiffer (feed-forward) or parallel (beside the feed-forward).</summary>
    public BottleneckPlacement Placement { get; init; } = BottleneckPlacement.Pfeiffer;

    /// <summary>"reduction_factor": the bottleneck has floor(hidden / reduction_factor) units. Default 16; parallel 2.</summary>
    public double? ReductionFactor { get; init; }

    /// <summary>"non_linearity" between the projections (relu, gelu, gelu_new, silu, swish, tanh). Default relu; Houlsby swish.</summary>
    public string? NonLinearity { get; init; }

    /// <summary>"scaling" of the adapter's output: a number (default 1; parallel 4), or "learned" (<see cref="LearnedScaling"/>).</summary>
    public double? Scaling { get; init; }

    /// <summary>"scaling": "learned": a trainable scalar starting at 1 (AdapterHub's), saved as "scaling".</summary>
    public bool LearnedScaling { get; init; }

    /// <summary>"dropout" on the adapter's output during training.</summary>
    public double Dropout { get; init; }

    /// <summary>
    /// "init_weights": "identity" (down-projection Kaiming-uniform, up-projection zero: the model starts unchanged) or
    /// "bert" (both normal with std 0.02, biases zero).
    /// </summary>
    public string InitWeights { get; init; } = "identity";

    /// <summary>"layers_to_transform": only blocks with these indices get adapters (null: all).</summary>
    public IReadOnlyList<int>? LayersToTransform { get; init; }

    /// <summary>"inv_adapter": "nice" adds an invertible adapter at the embeddings and its inverse before LM heads; null: none.</summary>
    public string? InvAdapter { get; init; }

    /// <summary>"inv_adapter_reduction_factor": the coupling networks' hidden width is (half the hidden size) / this.</summary>
    public double InvAdapterReductionFactor { get; init; } = 2;

    /// <summary>AdapterHub's DoubleSeqBnConfig: Houlsby placement, swish, reduction 16.</summary>
    public static BottleneckConfig Houlsby() => new() { Placement = BottleneckPlacement.Houlsby };

    /// <summary>AdapterHub's SeqBnConfig: Pfeiffer placement, relu, reduction 16.</summary>
    public static BottleneckConfig Pfeiffer() => new() { Placement = BottleneckPlacement.Pfeiffer };

    /// <summary>AdapterHub's ParBnConfig: parallel placement, relu, reduction 2, scaling 4.</summary>
    public static BottleneckConfig Parallel() => new() { Placement = BottleneckPlacement.Parallel };

    /// <summary>The reduction factor in effect.</summary>
    public double EffectiveReductionFactor => ReductionFactor ?? (Placement == BottleneckPlacement.Parallel ? 2 : 16);

    /// <summary>The non-linearity in effect.</summary>
    public string EffectiveNonLinearity => NonLinearity ?? (Placement == BottleneckPlacement.Houlsby ? "swish" : "relu");

    /// <summary>The (initial) scaling in effect.</summary>
    public double EffectiveScaling => LearnedScaling ? 1 : Scaling ?? (Placement == BottleneckPlacement.Parallel ? 4 : 1);

    /// <summary>Width of the bottleneck for a hidden size.</summary>
    /// <exception cref="ConfigException">The reduction factor leaves no unit.</exception>
    public int BottleneckSize(long hidden)
    {
        long size = (long)Math.Floor(hidden / EffectiveReductionFactor);
        if (size < 1)
            throw new ConfigException(Source, "reduction_factor", $"{EffectiveReductionFactor} is larger than the hidden size {hidden}: the bottleneck would have no unit");
        return (int)size;
    }

    /// <summary>Width of the invertible adapter's coupling networks for a hidden size.</summary>
    /// <exception cref="ConfigException">The reduction factor leaves no unit.</exception>
    public int CouplingSize(long hidden)
    {
        long size = (long)Math.Floor(hidden / 2 / InvAdapterReductionFactor);
        if (size < 1)
            throw new ConfigException(Source, "inv_adapter_reduction_factor", $"{InvAdapterReductionFactor} is larger than half the hidden size {hidden}: the coupling networks would have no unit");
        return (int)size;
    }

    const string Source = "bottleneck adapter config";

    public override void Validate()
    {
        if (ReductionFactor is { } rf && !(rf > 0 && double.IsFinite(rf)))
            throw new ConfigException(Source, "reduction_factor", $"must be a positive number, got {rf}");
        if (!Activations.IsKnown(EffectiveNonLinearity))
            throw new ConfigException(Source, "non_linearity", $"unknown non-linearity '{EffectiveNonLinearity}' (supported: {string.Join(", ", Activations.Names)})");
        if (Scaling is { } scaling && !double.IsFinite(scaling)) throw new ConfigException(Source, "scaling", $"must be a finite number or \"learned\", got {scaling}");
        if (LearnedScaling && Scaling is not null) throw new ConfigException(Source, "scaling", "is either a number or \"learned\", not both");
        if (Dropout is < 0 or >= 1) throw new ConfigException(Source, "dropout", $"must be in [0, 1), got {Dropout}");
        if (InitWeights is not ("identity" or "bert")) throw new ConfigException(Source, "init_weights", $"must be identity or bert, got '{InitWeights}'");
        if (LayersToTransform?.FirstOrDefault(l => l < 0) is < 0 and var layer)
            throw new ConfigException(Source, "layers_to_transform", $"layer indices start at 0, got {layer}");
        if (InvAdapter is not (null or "nice"))
            throw new ConfigException(Source, "inv_adapter", $"'{InvAdapter}' is not supported (supported: nice, or null for none)");
        if (!(InvAdapterReductionFactor > 0 && double.IsFinite(InvAdapterReductionFactor)))
            throw new ConfigException(Source, "inv_adapter_reduction_factor", $"must be a positive number, got {InvAdapterReductionFactor}");
    }

    protected override void WriteFields(JsonObject json)
    {
        json["placement"] = Placement.ToString().ToLowerInvariant();
        json["reduction_factor"] = EffectiveReductionFactor;
        json["non_linearity"] = EffectiveNonLinearity;
        json["scaling"] = LearnedScaling ? "learned" : EffectiveScaling;
        json["dropout"] = Dropout;
        json["init_weights"] = InitWeights;
        json["layers_to_transform"] = LayersToTransform is { } layers ? new JsonArray(layers.Select(l => (JsonNode?)l).ToArray()) : null;
        json["inv_adapter"] = InvAdapter;
        json["inv_adapter_reduction_factor"] = InvAdapterReductionFactor;
    }

    static readonly string[] KnownFields =
    {
        "placement", "reduction_factor", "non_linearity", "scaling", "dropout", "init_weights", "layers_to_transform", "inv_adapter",
        "inv_adapter_reduction_factor",
    };

    /// <summary>Reads adapter_config.json content.</summary>
    public static BottleneckConfig Read(ConfigReader reader)
    {
        var (task, baseModel, inference, modulesToSave) = ReadCommon(reader);
        string placement = reader.String("placement", "pfeiffer");
        var (scaling, learned) = ReadScaling(reader);
        var config = new BottleneckConfig
        {
            TaskType = task,
            BaseModelNameOrPath = baseModel,
            InferenceMode = inference,
            ModulesToSave = modulesToSave,
            Placement = Enum.TryParse<BottleneckPlacement>(placement, ignoreCase: true, out var parsed) && placement.All(char.IsLetter)
                ? parsed
                : throw new ConfigException(reader.Source, "placement", $"must be houlsby, pfeiffer or parallel, got '{placement}'"),
            ReductionFactor = reader.Has("reduction_factor") ? reader.Double("reduction_factor") : null,
            NonLinearity = reader.StringOrNull("non_linearity"),
            Scaling = scaling,
            LearnedScaling = learned,
            Dropout = reader.Double("dropout", 0),
            InitWeights = reader.String("init_weights", "identity"),
            LayersToTransform = reader.Has("layers_to_transform") ? reader.IntList("layers_to_transform") : null,
            InvAdapter = reader.StringOrNull("inv_adapter"),
            InvAdapterReductionFactor = reader.Double("inv_adapter_reduction_factor", 2),
            IgnoredFields = Unknown(reader, KnownFields),
        };
        config.Validate();
        return config;
    }

    /// <summary>"scaling": a number, or "learned"; (null, false) when absent.</summary>
    static (double? Value, bool Learned) ReadScaling(ConfigReader reader)
    {
        if (!reader.Has("scaling")) return (null, false);
        var node = reader.Root["scaling"]!;
        return node.GetValueKind() switch
        {
            JsonValueKind.Number => (reader.Double("scaling"), false),
            JsonValueKind.String when node.GetValue<string>() == "learned" => (null, true),
            _ => throw new ConfigException(reader.Source, "scaling", $"must be a number or \"learned\", found {node.ToJsonString()}"),
        };
    }
}
