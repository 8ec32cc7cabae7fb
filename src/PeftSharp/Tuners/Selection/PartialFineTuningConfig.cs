using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Tuners.Common;

namespace PeftSharp.Tuners.Selection;

/// <summary>
/// Partial fine-tuning (Lee et al. 2019): train the top K transformer blocks (plus the final norm) and freeze the rest;
/// with <see cref="Full"/> every parameter trains (full fine-tuning, the baseline every method is compared with).
/// peft_type "PARTIAL_FT" / "FULL_FT" (PeftSharp's own); saved keys are the trained parameters' own names.
/// </summary>
public sealed record PartialFineTuningConfig : PeftConfig
{
    public override string PeftType => Full ? "FULL_FT" : "PARTIAL_FT";

    /// <summary>True: every parameter of the model trains.</summary>
    public bool Full { get; init; }

    /// <summary>Number of top blocks that train (partial only).</summary>
    public int TrainableLayers { get; init; } = 2;

    /// <summary>Whether the final norm (Llama's model.norm, GPT-2's ln_f) trains with the top blocks (partial only).</summary>
    public bool TrainFinalNorm { get; init; } = true;

    public override void Validate()
    {
        if (!Full && TrainableLayers < 1) throw new ConfigException("partial fine-tuning config", "trainable_layers", $"must be at least 1, got {TrainableLayers}");
    }

    protected override void WriteFields(JsonObject json)
    {
        if (Full) return;
        json["trainable_layers"] = TrainableLayers;
        json["train_final_norm"] = TrainFinalNorm;
    }

    public static PartialFineTuningConfig Read(ConfigReader reader, bool full)
    {
        var (task, baseModel, inference, modulesToSave) = ReadCommon(reader);
        var config = new PartialFineTuningConfig
        {
            TaskType = task, BaseModelNameOrPath = baseModel, InferenceMode = inference, ModulesToSave = modulesToSave,
            Full = full,
            TrainableLayers = reader.Int("trainable_layers", 2),
            TrainFinalNorm = reader.Bool("train_final_norm", true),
            IgnoredFields = Unknown(reader, full ? Array.Empty<string>() : new[] { "trainable_layers", "train_final_norm" }),
        };
        config.Validate();
        return config;
    }
}
