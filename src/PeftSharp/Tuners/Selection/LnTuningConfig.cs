using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.Lora;

namespace PeftSharp.Tuners.Selection;

/// <summary>
/// LayerNorm tuning (Zhao et al. 2024): train only the normalisation layers' weights and biases. peft_type "LN_TUNING"
/// as in Python PEFT, saved keys "&lt;path&gt;.ln_tuning_layers.weight" / ".bias".
/// </summary>
public sealed record LnTuningConfig : PeftConfig
{
    public override string PeftType => "LN_TUNING";

    /// <summary>PEFT "target_modules" (with exclude_modules). Null: every LayerNorm / RMSNorm of the model.</summary>
    public TargetPatterns? Targets { get; init; }

    protected override void WriteFields(JsonObject json)
    {
        json["target_modules"] = Targets?.Regex is { } regex ? JsonValue.Create(regex) : StringArray(Targets?.Names);
        if (Targets?.ExcludeNames is { } exclude) json["exclude_modules"] = StringArray(exclude);
    }

    public static LnTuningConfig Read(ConfigReader reader)
    {
        var (task, baseModel, inference, modulesToSave) = ReadCommon(reader);
        return new LnTuningConfig
        {
            TaskType = task, BaseModelNameOrPath = baseModel, InferenceMode = inference, ModulesToSave = modulesToSave,
            Targets = LoraConfig.ReadTargets(reader),
            IgnoredFields = Unknown(reader, new[] { "target_modules", "exclude_modules" }),
        };
    }
}
