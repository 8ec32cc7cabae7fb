using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Tuners.Common;

namespace PeftSharp.Tuners.Selection;

/// <summary>
/// BitFit (Ben Zaken et al. 2022): train only bias terms. peft_type "BITFIT" (PeftSharp's own; Python PEFT has no such
/// method). Saved keys are the trained biases' own names, "base_model.model.&lt;path&gt;.bias".
/// </summary>
public sealed record BitFitConfig : PeftConfig
{
    public override string PeftType => "BITFIT";

    /// <summary>Groups of biases to train: query, key, value, attention_output, intermediate, output, layer_norm, other. Null: all.</summary>
    public IReadOnlyList<string>? BiasGroups { get; init; }

    public static readonly IReadOnlyList<string> Groups = new[] { "query", "key", "value", "attention_output", "intermediate", "output", "layer_norm", "other" };

    public override void Validate()
    {
        foreach (string group in BiasGroups ?? Array.Empty<string>())
            if (!Groups.Contains(group))
                throw new ConfigException("BitFit config", "bias_groups", $"unknown group '{group}' (known: {string.Join(", ", Groups)})");
    }

    protected override void WriteFields(JsonObject json) => json["bias_groups"] = StringArray(BiasGroups);

    public static BitFitConfig Read(ConfigReader reader)
    {
        var (task, baseModel, inference, modulesToSave) = ReadCommon(reader);
        var config = new BitFitConfig
        {
            TaskType = task, BaseModelNameOrPath = baseModel, InferenceMode = inference, ModulesToSave = modulesToSave,
            BiasGroups = reader.StringListOrNull("bias_groups"),
            IgnoredFields = Unknown(reader, new[] { "bias_groups" }),
        };
        config.Validate();
        return config;
    }
}
