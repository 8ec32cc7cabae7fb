using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.Lora;

namespace PeftSharp.Tuners.IA3;

/// <summary>
/// (IA)^3 (Liu et al. 2022): learned vectors that rescale activations; adapter_config.json with peft_type "IA3" and
/// PEFT's fields (target_modules, feedforward_modules, fan_in_fan_out, init_ia3_weights).
/// </summary>
public sealed record IA3Config : PeftConfig
{
    public override string PeftType => "IA3";

    /// <summary>PEFT "target_modules" (with exclude_modules). Null: the family's default.</summary>
    public TargetPatterns? Targets { get; init; }

    /// <summary>PEFT "feedforward_modules": targets whose input is scaled (the others scale their output). Null: the family's default.</summary>
    public TargetPatterns? FeedforwardModules { get; init; }

    public bool FanInFanOut { get; init; }

    /// <summary>PEFT "init_ia3_weights": start the vectors at one (identity); false draws them from N(0, 1).</summary>
    public bool InitIA3Weights { get; init; } = true;

    /// <summary>PEFT's TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING and its feed-forward counterpart.</summary>
    public static readonly IReadOnlyDictionary<string, (string[] Targets, string[] Feedforward)> Defaults = new Dictionary<string, (string[], string[])>
    {
        ["llama"] = (new[] { "k_proj", "v_proj", "down_proj" }, new[] { "down_proj" }),
        ["mistral"] = (new[] { "k_proj", "v_proj", "down_proj" }, new[] { "down_proj" }),
        ["qwen2"] = (new[] { "k_proj", "v_proj", "down_proj" }, new[] { "down_proj" }),
        ["gpt2"] = (new[] { "c_attn", "mlp.c_proj" }, new[] { "mlp.c_proj" }),
        ["bert"] = (new[] { "key", "value", "output.dense" }, new[] { "output.dense" }),
        ["roberta"] = (new[] { "key", "value", "output.dense" }, new[] { "output.dense" }),
        ["distilbert"] = (new[] { "k_lin", "v_lin", "lin2" }, new[] { "lin2" }),
    };

    protected override void WriteFields(JsonObject json)
    {
        json["target_modules"] = Targets?.Regex is { } regex ? JsonValue.Create(regex) : StringArray(Targets?.Names);
        json["feedforward_modules"] = FeedforwardModules?.Regex is { } ff ? JsonValue.Create(ff) : StringArray(FeedforwardModules?.Names);
        if (Targets?.ExcludeNames is { } exclude) json["exclude_modules"] = StringArray(exclude);
        json["fan_in_fan_out"] = FanInFanOut;
        json["init_ia3_weights"] = InitIA3Weights;
        json["auto_mapping"] = null;
    }

    public static IA3Config Read(ConfigReader reader)
    {
        var (task, baseModel, inference, modulesToSave) = ReadCommon(reader);
        TargetPatterns? feedforward = null;
        if (reader.Has("feedforward_modules"))
            feedforward = reader.Root["feedforward_modules"]!.GetValueKind() == System.Text.Json.JsonValueKind.String
                ? new TargetPatterns { Regex = reader.String("feedforward_modules") }
                : new TargetPatterns { Names = reader.StringListOrNull("feedforward_modules") };
        return new IA3Config
        {
            TaskType = task,
            BaseModelNameOrPath = baseModel,
            InferenceMode = inference,
            ModulesToSave = modulesToSave,
            Targets = LoraConfig.ReadTargets(reader),
            FeedforwardModules = feedforward,
            FanInFanOut = reader.Bool("fan_in_fan_out", false),
            InitIA3Weights = reader.Bool("init_ia3_weights", true),
            IgnoredFields = Unknown(reader, new[] { "target_modules", "feedforward_modules", "exclude_modules", "fan_in_fan_out", "init_ia3_weights" }),
        };
    }
}
