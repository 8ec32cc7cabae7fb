using System.Text.Json.Nodes;
using PeftSharp.Models;

namespace PeftSharp.Tuners.Common;

/// <summary>
/// Options of one adapter, as adapter_config.json holds them. Field names in JSON are Hugging Face PEFT's; this base
/// holds the fields every method shares, each method's record adds its own.
/// </summary>
public abstract record PeftConfig
{
    /// <summary>PEFT's peft_type, e.g. "LORA", "IA3"; PeftSharp's own methods use their own names (e.g. "BITFIT").</summary>
    public abstract string PeftType { get; }

    /// <summary>PEFT's task_type: CAUSAL_LM, SEQ_CLS, TOKEN_CLS, FEATURE_EXTRACTION (null when unknown).</summary>
    public string? TaskType { get; init; }

    /// <summary>The base model the adapter was trained on (informational).</summary>
    public string? BaseModelNameOrPath { get; init; }

    /// <summary>True when saved for inference only.</summary>
    public bool InferenceMode { get; init; }

    /// <summary>
    /// Modules (matched as PEFT does: the module path ends with the entry) whose weights the adapter trains as a full
    /// copy, e.g. a classification head. PEFT adds "classifier" and "score" itself for classification tasks.
    /// </summary>
    public IReadOnlyList<string>? ModulesToSave { get; init; }

    /// <summary>Fields of adapter_config.json that were not understood (reported, then ignored).</summary>
    public IReadOnlyList<string> IgnoredFields { get; init; } = Array.Empty<string>();

    /// <summary>
    /// The config to attach an adapter with when its weights will be loaded right after: initialisations that rewrite
    /// the base model (PiSSA, OLoRA) must not run then.
    /// </summary>
    public virtual PeftConfig ForLoading() => this with { InferTaskHeads = false };

    /// <summary>
    /// When the config names no task_type, train the model's classification head as PEFT does for its task. Off for
    /// configs read from a file: the file's own modules_to_save says what it holds.
    /// </summary>
    public bool InferTaskHeads { get; init; } = true;

    /// <summary>Checks option values; throws <see cref="ConfigException"/> naming the field.</summary>
    public virtual void Validate() { }

    /// <summary>adapter_config.json content.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["base_model_name_or_path"] = BaseModelNameOrPath,
            ["inference_mode"] = InferenceMode,
            ["modules_to_save"] = ModulesToSave is null ? null : new JsonArray(ModulesToSave.Select(m => (JsonNode?)m).ToArray()),
            ["peft_type"] = PeftType,
            ["revision"] = null,
            ["task_type"] = TaskType,
        };
        WriteFields(json);
        return new JsonObject(json.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
    }

    /// <summary>Adds the method's own fields.</summary>
    protected abstract void WriteFields(JsonObject json);

    /// <summary>The fields every config shares, read from adapter_config.json.</summary>
    protected static (string? TaskType, string? BaseModel, bool InferenceMode, List<string>? ModulesToSave) ReadCommon(ConfigReader reader) =>
        (reader.StringOrNull("task_type"), reader.StringOrNull("base_model_name_or_path"), reader.Bool("inference_mode", false), reader.StringListOrNull("modules_to_save"));

    /// <summary>Names of the common fields (known to every method's reader).</summary>
    protected static readonly IReadOnlyList<string> CommonFields = new[]
    {
        "peft_type", "task_type", "base_model_name_or_path", "inference_mode", "modules_to_save", "revision", "auto_mapping", "peft_version",
    };

    /// <summary>The JSON fields not in <paramref name="known"/>.</summary>
    protected static List<string> Unknown(ConfigReader reader, IEnumerable<string> known)
    {
        var all = CommonFields.Concat(known).ToHashSet(StringComparer.Ordinal);
        return reader.Root.Select(p => p.Key).Where(k => !all.Contains(k)).ToList();
    }

    /// <summary>PEFT's task_type for a model head.</summary>
    public static string? TaskTypeOf(ModelTask task) => task switch
    {
        ModelTask.CausalLM => "CAUSAL_LM",
        ModelTask.SequenceClassification => "SEQ_CLS",
        ModelTask.TokenClassification => "TOKEN_CLS",
        ModelTask.Base => "FEATURE_EXTRACTION",
        _ => null,
    };

    protected static JsonArray? StringArray(IReadOnlyList<string>? items) => items is null ? null : new JsonArray(items.Select(i => (JsonNode?)i).ToArray());
}
