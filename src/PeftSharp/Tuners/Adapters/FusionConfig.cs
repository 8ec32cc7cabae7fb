using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Tuners.Common;

namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// AdapterFusion (Pfeiffer et al. 2021) over existing bottleneck adapters; adapter_config.json with peft_type "FUSION",
/// "adapters" (the fused adapters, which stay frozen) and AdapterHub's AdapterFusionConfig fields. Defaults are
/// AdapterHub's "dynamic" fusion; <see cref="Static"/> gives its "static" one. A fusion directory written by
/// <see cref="AdapterFusion.SaveFusion"/> holds the fused adapters in subdirectories named after them, and loading it
/// loads them too (those not on the model yet).
/// </summary>
public sealed record FusionConfig : PeftConfig
{
    public override string PeftType => "FUSION";

    /// <summary>"adapters": the bottleneck adapters fused (at least two).</summary>
    public IReadOnlyList<string> Adapters { get; init; } = Array.Empty<string>();

    /// <summary>"query": a learned query projection of the site's output (else the output itself).</summary>
    public bool Query { get; init; } = true;

    /// <summary>"key": a learned key projection of the adapters' contributions (else the contributions).</summary>
    public bool Key { get; init; } = true;

    /// <summary>"value": a learned value projection (no bias) of the contributions.</summary>
    public bool Value { get; init; } = true;

    /// <summary>"value_before_softmax": project each contribution before weighting (true) or the weighted sum after.</summary>
    public bool ValueBeforeSoftmax { get; init; } = true;

    /// <summary>"value_initialized": the value projection starts at the identity (else normal std 0.02).</summary>
    public bool ValueInitialized { get; init; } = true;

    /// <summary>"residual_before": add the site's output to each contribution before attention instead of after.</summary>
    public bool ResidualBefore { get; init; }

    /// <summary>"dropout_prob": dropout on the attention scores during training.</summary>
    public double DropoutProb { get; init; }

    /// <summary>
    /// "regularization": training should add <see cref="AdapterFusion.FusionRegularizationLoss"/> (0.01 sum ||I - V||^2),
    /// which keeps the value projections near the identity, as AdapterHub's dynamic fusion does.
    /// </summary>
    public bool Regularization { get; init; } = true;

    /// <summary>Directory the config was read from (not saved): the fused adapters are loaded from its subdirectories.</summary>
    public string? SourceDirectory { get; init; }

    /// <summary>AdapterHub's "static" fusion: query and key only, no value projection and no regularisation.</summary>
    public static FusionConfig Static(params string[] adapters) =>
        new() { Adapters = adapters, Value = false, ValueInitialized = false, Regularization = false };

    const string Source = "fusion config";

    public override void Validate()
    {
        if (Adapters.Count < 2) throw new ConfigException(Source, "adapters", $"a fusion needs at least two adapters, got {Adapters.Count}");
        if (Adapters.Any(string.IsNullOrWhiteSpace)) throw new ConfigException(Source, "adapters", "adapter names cannot be empty");
        if (Adapters.Distinct(StringComparer.Ordinal).Count() != Adapters.Count)
            throw new ConfigException(Source, "adapters", $"names an adapter twice: {string.Join(", ", Adapters)}");
        if (DropoutProb is < 0 or >= 1) throw new ConfigException(Source, "dropout_prob", $"must be in [0, 1), got {DropoutProb}");
    }

    protected override void WriteFields(JsonObject json)
    {
        json["adapters"] = StringArray(Adapters);
        json["query"] = Query;
        json["key"] = Key;
        json["value"] = Value;
        json["value_before_softmax"] = ValueBeforeSoftmax;
        json["value_initialized"] = ValueInitialized;
        json["residual_before"] = ResidualBefore;
        json["dropout_prob"] = DropoutProb;
        json["regularization"] = Regularization;
    }

    static readonly string[] KnownFields =
        { "adapters", "query", "key", "value", "value_before_softmax", "value_initialized", "residual_before", "dropout_prob", "regularization" };

    /// <summary>Reads adapter_config.json content; <see cref="SourceDirectory"/> is the file's directory.</summary>
    public static FusionConfig Read(ConfigReader reader)
    {
        var (task, baseModel, inference, modulesToSave) = ReadCommon(reader);
        var config = new FusionConfig
        {
            TaskType = task,
            BaseModelNameOrPath = baseModel,
            InferenceMode = inference,
            ModulesToSave = modulesToSave,
            Adapters = reader.StringListOrNull("adapters") ?? throw new ConfigException(reader.Source, "adapters", "is required but missing"),
            Query = reader.Bool("query", true),
            Key = reader.Bool("key", true),
            Value = reader.Bool("value", true),
            ValueBeforeSoftmax = reader.Bool("value_before_softmax", true),
            ValueInitialized = reader.Bool("value_initialized", true),
            ResidualBefore = reader.Bool("residual_before", false),
            DropoutProb = reader.Double("dropout_prob", 0),
            Regularization = reader.Bool("regularization", true),
            SourceDirectory = File.Exists(reader.Source) ? Path.GetDirectoryName(Path.GetFullPath(reader.Source)) : null,
            IgnoredFields = Unknown(reader, KnownFields),
        };
        config.Validate();
        return config;
    }
}
