using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;

namespace PeftSharp.Cli.Inspection;

/// <summary>Adapted modules that differ only in their block number, shown as one line.</summary>
/// <param name="Path">Module path with block ranges, e.g. "model.layers.0-4.self_attn.q_proj".</param>
/// <param name="Type">Adapter layer class, e.g. "LoraLayer".</param>
/// <param name="Count">Modules in the group.</param>
/// <param name="ParametersEach">Adapter parameters of one module.</param>
sealed record AttachmentGroup(string Path, string Type, int Count, long ParametersEach);

/// <summary>What <c>peft inspect --adapter</c> reports: method, options, where it attaches, trainable share.</summary>
sealed record AdapterSummary(
    string Path,
    string PeftType,
    string Description,
    string? TaskType,
    string? BaseModel,
    JsonObject Options,
    IReadOnlyList<AttachmentGroup> Attachments,
    TrainableReport Share,
    IReadOnlyList<string> IgnoredFields)
{
    const string AdapterName = "default";

    /// <summary>adapter_config.json fields that describe the file rather than the method; not listed as options.</summary>
    static readonly HashSet<string> Bookkeeping = new(StringComparer.Ordinal)
    {
        "peft_type", "task_type", "base_model_name_or_path", "inference_mode", "revision", "auto_mapping", "megatron_core",
        "megatron_config", "loftq_config", "layer_replication", "peft_version",
    };

    /// <summary>Number of adapted modules.</summary>
    public int AdaptedModules => Attachments.Sum(a => a.Count);

    /// <summary>
    /// Loads the adapter in <paramref name="directory"/> onto <paramref name="model"/> (which it wraps; inspect the model
    /// first). The trainable share is PEFT's print_trainable_parameters with the adapter trainable.
    /// </summary>
    public static AdapterSummary Load(TransformerModel model, string directory)
    {
        var peft = PeftModel.Load(model, directory, AdapterName, trainable: true);
        var config = peft.Adapters[AdapterName];
        var modules = peft.AdapterModules()
            .Where(m => m.Module.AdapterNames.Contains(AdapterName))
            .Select(m => (m.Path, Type: m.Module.GetType().Name, Parameters: m.Module.AdapterParameters(AdapterName).Sum(p => p.numel())))
            .ToList();
        var groups = PathGroups.Group(modules, m => m.Path, m => $"{m.Type}/{m.Parameters}")
            .Select(g => new AttachmentGroup(g.Path.Length == 0 ? "(model)" : g.Path, g.Items[0].Type, g.Items.Count, g.Items[0].Parameters))
            .ToList();
        var options = new JsonObject(config.ToJson()
            .Where(p => !Bookkeeping.Contains(p.Key) && !IsEmpty(p.Value))
            .Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
        return new AdapterSummary(directory, config.PeftType, PeftMethods.For(config.PeftType).Description, config.TaskType,
            config.BaseModelNameOrPath, options, groups, peft.TrainableParameters(), config.IgnoredFields);
    }

    static bool IsEmpty(JsonNode? node) => node is null || node is JsonObject { Count: 0 } || node is JsonArray { Count: 0 };

    public JsonObject ToJson() => new()
    {
        ["path"] = Path,
        ["peft_type"] = PeftType,
        ["description"] = Description,
        ["task_type"] = TaskType,
        ["base_model_name_or_path"] = BaseModel,
        ["options"] = Options.DeepClone(),
        ["adapted_modules"] = AdaptedModules,
        ["modules"] = new JsonArray(Attachments.Select(a => (JsonNode?)new JsonObject
        {
            ["path"] = a.Path,
            ["type"] = a.Type,
            ["count"] = a.Count,
            ["parameters_each"] = a.ParametersEach,
        }).ToArray()),
        ["trainable_parameters"] = Share.Trainable,
        ["all_parameters"] = Share.Total,
        ["trainable_percent"] = Share.Percent,
        ["ignored_fields"] = new JsonArray(IgnoredFields.Select(f => (JsonNode?)f).ToArray()),
    };
}
