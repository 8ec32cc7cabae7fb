using System.Text.Json;
using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Tuners.Common;

namespace PeftSharp.Tuners.Lora;

/// <summary>
/// LoRA (Hu et al. 2021) and its variants rsLoRA (Kalajdzievski 2023), DoRA (Liu et al. 2024), PiSSA and OLoRA
/// initialisation; adapter_config.json with peft_type "LORA" and PEFT's field names. PiSSA/OLoRA adapters are saved as
/// plain LoRA for the original base (<see cref="PissaConversion"/>).
/// </summary>
public sealed record LoraConfig : PeftConfig, ISavedFormConversion
{
    public override string PeftType => "LORA";

    /// <summary>Rank r of the update B A (PEFT "r").</summary>
    public int R { get; init; } = 8;

    /// <summary>PEFT "lora_alpha": the update is scaled by alpha / r (alpha / sqrt(r) with rsLoRA).</summary>
    public double LoraAlpha { get; init; } = 8;

    /// <summary>PEFT "lora_dropout": dropout on the input of A during training.</summary>
    public double LoraDropout { get; init; }

    /// <summary>PEFT "target_modules" (and exclude_modules, layers_to_transform, layers_pattern). Null: the family's default.</summary>
    public TargetPatterns? Targets { get; init; }

    /// <summary>PEFT "fan_in_fan_out": the base stores its weight as [in, out] (GPT-2's Conv1D; detected automatically).</summary>
    public bool FanInFanOut { get; init; }

    /// <summary>PEFT "bias": "none", "all" (train every bias) or "lora_only" (biases of LoRA layers).</summary>
    public string Bias { get; init; } = "none";

    /// <summary>PEFT "use_rslora": scale by alpha / sqrt(r).</summary>
    public bool UseRsLora { get; init; }

    /// <summary>PEFT "use_dora": weight-decomposed LoRA.</summary>
    public bool UseDora { get; init; }

    /// <summary>PEFT "init_lora_weights": "true" (A Kaiming-uniform, B zero), "false" (both random), "gaussian", "pissa", "pissa_niter_N", "olora".</summary>
    public string InitLoraWeights { get; init; } = "true";

    /// <summary>PEFT "rank_pattern": module-path pattern -> rank.</summary>
    public IReadOnlyDictionary<string, int> RankPattern { get; init; } = new Dictionary<string, int>();

    /// <summary>PEFT "alpha_pattern": module-path pattern -> alpha.</summary>
    public IReadOnlyDictionary<string, double> AlphaPattern { get; init; } = new Dictionary<string, double>();

    /// <summary>PEFT "lora_bias": a trainable bias on B.</summary>
    public bool LoraBias { get; init; }

    /// <summary>Default target modules of each model_type (PEFT's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> DefaultTargets = new Dictionary<string, string[]>
    {
        ["llama"] = new[] { "q_proj", "v_proj" }, ["mistral"] = new[] { "q_proj", "v_proj" }, ["qwen2"] = new[] { "q_proj", "v_proj" },
        ["gpt2"] = new[] { "c_attn" }, ["bert"] = new[] { "query", "value" }, ["roberta"] = new[] { "query", "value" },
        ["distilbert"] = new[] { "q_lin", "v_lin" },
    };

    /// <summary>Loading must not run PiSSA/OLoRA's rewrite of the base weights: the file's tensors replace A and B anyway.</summary>
    public override PeftConfig ForLoading() => (LoraConfig)base.ForLoading() with { InitLoraWeights = "true" };

    /// <summary>Rank and alpha of the layer at <paramref name="path"/> after rank_pattern / alpha_pattern.</summary>
    public (int Rank, double Alpha) RankAndAlphaFor(string path)
    {
        int rank = TargetPatterns.PatternKeyFor(RankPattern.Keys, path) is { } rk ? RankPattern[rk] : R;
        double alpha = TargetPatterns.PatternKeyFor(AlphaPattern.Keys, path) is { } ak ? AlphaPattern[ak] : LoraAlpha;
        return (rank, alpha);
    }

    /// <summary>Scale of the update for a rank and alpha.</summary>
    public double Scaling(int rank, double alpha) => UseRsLora ? alpha / Math.Sqrt(rank) : alpha / rank;

    public override void Validate()
    {
        const string source = "LoRA config";
        if (R <= 0) throw new ConfigException(source, "r", $"must be positive, got {R}");
        if (LoraDropout is < 0 or >= 1) throw new ConfigException(source, "lora_dropout", $"must be in [0, 1), got {LoraDropout}");
        if (Bias is not ("none" or "all" or "lora_only")) throw new ConfigException(source, "bias", $"must be none, all or lora_only, got '{Bias}'");
        if (!LoraInit.IsKnown(InitLoraWeights))
            throw new ConfigException(source, "init_lora_weights", $"'{InitLoraWeights}' is not one of true, false, gaussian, pissa, pissa_niter_N, olora");
        foreach (var (key, rank) in RankPattern)
            if (rank <= 0) throw new ConfigException(source, "rank_pattern", $"rank of '{key}' must be positive, got {rank}");
    }

    /// <summary>PiSSA/OLoRA adapters become a rank-2r LoRA for the original base; others are saved as they are.</summary>
    public PeftConfig Convert(PeftModel peft, string name, Dictionary<string, TorchSharp.torch.Tensor> tensors) =>
        PissaConversion.Convert(this, peft, name, tensors);

    protected override void WriteFields(JsonObject json)
    {
        json["r"] = R;
        json["lora_alpha"] = LoraAlpha;
        json["lora_dropout"] = LoraDropout;
        json["target_modules"] = Targets?.Regex is { } regex ? JsonValue.Create(regex) : StringArray(Targets?.Names);
        if (Targets?.ExcludeRegex is { } excludeRegex) json["exclude_modules"] = excludeRegex;
        else if (Targets?.ExcludeNames is { } exclude) json["exclude_modules"] = StringArray(exclude);
        json["layers_to_transform"] = Targets?.LayersToTransform is { } layers ? new JsonArray(layers.Select(l => (JsonNode?)l).ToArray()) : null;
        json["layers_pattern"] = Targets?.LayersPattern is { } pattern ? StringArray(pattern) : null;
        json["fan_in_fan_out"] = FanInFanOut;
        json["bias"] = Bias;
        json["use_rslora"] = UseRsLora;
        json["use_dora"] = UseDora;
        json["init_lora_weights"] = InitLoraWeights switch { "true" => true, "false" => false, var other => other };
        json["rank_pattern"] = new JsonObject(RankPattern.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value)));
        json["alpha_pattern"] = new JsonObject(AlphaPattern.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value)));
        if (LoraBias) json["lora_bias"] = true;
        // Fields Python PEFT expects to find in a LoRA config, at their neutral values.
        json["layer_replication"] = null;
        json["loftq_config"] = new JsonObject();
        json["megatron_config"] = null;
        json["megatron_core"] = "megatron.core";
        json["auto_mapping"] = null;
    }

    /// <summary>Fields this reader understands beyond the common ones.</summary>
    static readonly string[] KnownFields =
    {
        "r", "lora_alpha", "lora_dropout", "target_modules", "exclude_modules", "layers_to_transform", "layers_pattern", "fan_in_fan_out",
        "bias", "use_rslora", "use_dora", "init_lora_weights", "rank_pattern", "alpha_pattern", "lora_bias",
        // Present in files Python PEFT writes; neutral values carry no behaviour here.
        "layer_replication", "loftq_config", "megatron_config", "megatron_core", "target_parameters", "trainable_token_indices",
        "use_qalora", "qalora_group_size", "eva_config", "corda_config", "alora_invocation_tokens", "arrow_config", "ensure_weight_tying",
        "lora_ga_config", "monteclora_config", "use_bdlora", "velora_config",
    };

    /// <summary>Fields that ask for behaviour PeftSharp lacks unless they are null or false.</summary>
    static readonly string[] UnsupportedUnlessNeutral =
    {
        "layer_replication", "megatron_config", "target_parameters", "trainable_token_indices", "eva_config", "corda_config",
        "alora_invocation_tokens", "arrow_config", "lora_ga_config", "monteclora_config", "use_bdlora", "velora_config",
        "ensure_weight_tying", "use_qalora",
    };

    /// <summary>Reads adapter_config.json content.</summary>
    public static LoraConfig Read(ConfigReader reader)
    {
        var (task, baseModel, inference, modulesToSave) = ReadCommon(reader);
        var config = new LoraConfig
        {
            TaskType = task,
            BaseModelNameOrPath = baseModel,
            InferenceMode = inference,
            ModulesToSave = modulesToSave,
            R = reader.Int("r", 8),
            LoraAlpha = reader.Double("lora_alpha", 8),
            LoraDropout = reader.Double("lora_dropout", 0),
            Targets = ReadTargets(reader),
            FanInFanOut = reader.Bool("fan_in_fan_out", false),
            Bias = reader.String("bias", "none"),
            UseRsLora = reader.Bool("use_rslora", false),
            UseDora = reader.Bool("use_dora", false),
            InitLoraWeights = ReadInit(reader),
            RankPattern = ReadMap(reader, "rank_pattern", v => v.GetValue<int>()),
            AlphaPattern = ReadMap(reader, "alpha_pattern", v => v.GetValue<double>()),
            LoraBias = reader.Bool("lora_bias", false),
            IgnoredFields = IgnoredNonNeutral(reader),
        };
        config.Validate();
        return config;
    }

    /// <summary>Unknown fields, and known-but-unsupported ones set to something other than their neutral value.</summary>
    static List<string> IgnoredNonNeutral(ConfigReader reader)
    {
        var ignored = Unknown(reader, KnownFields);
        foreach (string field in UnsupportedUnlessNeutral)
            if (reader.Has(field) && reader.Root[field]!.GetValueKind() != JsonValueKind.False) ignored.Add(field);
        if (reader.ObjectOrNull("loftq_config") is { Root.Count: > 0 }) ignored.Add("loftq_config");
        return ignored;
    }

    /// <summary>target_modules, exclude_modules, layers_to_transform, layers_pattern as PEFT writes them (list or string).</summary>
    public static TargetPatterns? ReadTargets(ConfigReader reader)
    {
        if (!reader.Has("target_modules")) return null;
        var node = reader.Root["target_modules"]!;
        var targets = node.GetValueKind() == JsonValueKind.String
            ? new TargetPatterns { Regex = node.GetValue<string>() }
            : new TargetPatterns { Names = reader.StringListOrNull("target_modules") };
        if (reader.Has("exclude_modules"))
        {
            var exclude = reader.Root["exclude_modules"]!;
            targets = exclude.GetValueKind() == JsonValueKind.String
                ? targets with { ExcludeRegex = exclude.GetValue<string>() }
                : targets with { ExcludeNames = reader.StringListOrNull("exclude_modules") };
        }
        if (reader.Has("layers_to_transform")) targets = targets with { LayersToTransform = reader.IntList("layers_to_transform") };
        if (reader.Has("layers_pattern")) targets = targets with { LayersPattern = reader.StringListOrNull("layers_pattern") };
        return targets;
    }

    static string ReadInit(ConfigReader reader)
    {
        if (!reader.Has("init_lora_weights")) return "true";
        var node = reader.Root["init_lora_weights"]!;
        return node.GetValueKind() switch
        {
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.String => node.GetValue<string>(),
            var kind => throw new ConfigException(reader.Source, "init_lora_weights", $"must be a boolean or a string, found {kind}"),
        };
    }

    static Dictionary<string, T> ReadMap<T>(ConfigReader reader, string field, Func<JsonValue, T> read)
    {
        var map = new Dictionary<string, T>(StringComparer.Ordinal);
        if (reader.ObjectOrNull(field) is not { } obj) return map;
        foreach (var (key, value) in obj.Root)
        {
            try
            {
                map[key] = read((JsonValue)value!);
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidCastException or NullReferenceException)
            {
                throw new ConfigException(reader.Source, field, $"value of '{key}' must be a number", e);
            }
        }
        return map;
    }
}
