using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Training;

namespace PeftSharp.Experiments;

/// <summary>
/// The training settings of a fine-tuning run as a user gives them: every field optional, so that layers can be
/// stacked (a recipe's defaults, then a config file's "training" section, then command-line flags) with
/// <see cref="Over"/>, and turned into <see cref="TrainingOptions"/> at the end. JSON field names are snake_case
/// (<c>learning_rate</c>, <c>max_steps</c>, <c>batch_size</c>, ...); <c>precision</c> is "bf16" or "fp32".
/// </summary>
public sealed record TrainingSettings
{
    public double? LearningRate { get; init; }
    public int? Epochs { get; init; }
    public int? MaxSteps { get; init; }
    public int? BatchSize { get; init; }
    public int? MaxLength { get; init; }
    public long? Seed { get; init; }
    public TrainingPrecision? Precision { get; init; }
    public double? WarmupRatio { get; init; }
    public int? WarmupSteps { get; init; }
    public double? WeightDecay { get; init; }
    public LearningRateSchedule? Schedule { get; init; }
    public int? GradientAccumulationSteps { get; init; }
    public double? MaxGradNorm { get; init; }
    public int? EvalSteps { get; init; }
    public int? SaveSteps { get; init; }
    public int? LoggingSteps { get; init; }
    public int? EarlyStoppingPatience { get; init; }
    public bool? LoadBestAtEnd { get; init; }

    /// <summary>Batch size when nobody gives one.</summary>
    public const int DefaultBatchSize = 16;

    /// <summary>Longest input when nobody gives one (cut to the model's position limit).</summary>
    public const int DefaultMaxLength = 128;

    /// <summary>These settings with every field that <paramref name="higher"/> sets replaced by its value.</summary>
    public TrainingSettings Over(TrainingSettings higher) => new()
    {
        LearningRate = higher.LearningRate ?? LearningRate,
        Epochs = higher.Epochs ?? Epochs,
        MaxSteps = higher.MaxSteps ?? MaxSteps,
        BatchSize = higher.BatchSize ?? BatchSize,
        MaxLength = higher.MaxLength ?? MaxLength,
        Seed = higher.Seed ?? Seed,
        Precision = higher.Precision ?? Precision,
        WarmupRatio = higher.WarmupRatio ?? WarmupRatio,
        WarmupSteps = higher.WarmupSteps ?? WarmupSteps,
        WeightDecay = higher.WeightDecay ?? WeightDecay,
        Schedule = higher.Schedule ?? Schedule,
        GradientAccumulationSteps = higher.GradientAccumulationSteps ?? GradientAccumulationSteps,
        MaxGradNorm = higher.MaxGradNorm ?? MaxGradNorm,
        EvalSteps = higher.EvalSteps ?? EvalSteps,
        SaveSteps = higher.SaveSteps ?? SaveSteps,
        LoggingSteps = higher.LoggingSteps ?? LoggingSteps,
        EarlyStoppingPatience = higher.EarlyStoppingPatience ?? EarlyStoppingPatience,
        LoadBestAtEnd = higher.LoadBestAtEnd ?? LoadBestAtEnd,
    };

    /// <summary>
    /// The trainer's options: fields not set take <see cref="TrainingOptions"/>' defaults, except a 6% warm-up when no
    /// warm-up is given. Validated (an <see cref="ArgumentException"/> names the option).
    /// </summary>
    public TrainingOptions ToTrainingOptions(string? outputDirectory)
    {
        var defaults = new TrainingOptions();
        var options = new TrainingOptions
        {
            LearningRate = LearningRate ?? defaults.LearningRate,
            Epochs = Epochs ?? defaults.Epochs,
            MaxSteps = MaxSteps ?? defaults.MaxSteps,
            Seed = Seed ?? defaults.Seed,
            Precision = Precision ?? defaults.Precision,
            WarmupRatio = WarmupSteps is > 0 ? 0 : WarmupRatio ?? 0.06,
            WarmupSteps = WarmupSteps ?? 0,
            WeightDecay = WeightDecay ?? defaults.WeightDecay,
            Schedule = Schedule ?? defaults.Schedule,
            GradientAccumulationSteps = GradientAccumulationSteps ?? defaults.GradientAccumulationSteps,
            MaxGradNorm = MaxGradNorm ?? defaults.MaxGradNorm,
            EvalSteps = EvalSteps ?? defaults.EvalSteps,
            SaveSteps = SaveSteps ?? defaults.SaveSteps,
            LoggingSteps = LoggingSteps ?? defaults.LoggingSteps,
            EarlyStoppingPatience = EarlyStoppingPatience ?? defaults.EarlyStoppingPatience,
            LoadBestAtEnd = LoadBestAtEnd ?? defaults.LoadBestAtEnd,
            OutputDirectory = outputDirectory,
        };
        options.Validate();
        if (BatchSize is <= 0) throw new ArgumentException("training option BatchSize must be positive", nameof(BatchSize));
        if (MaxLength is < 8) throw new ArgumentException("training option MaxLength must be at least 8", nameof(MaxLength));
        return options;
    }

    /// <summary>Names of the JSON fields, for error messages.</summary>
    public static readonly IReadOnlyList<string> FieldNames =
    [
        "learning_rate", "epochs", "max_steps", "batch_size", "max_length", "seed", "precision", "warmup_ratio", "warmup_steps", "weight_decay",
        "schedule", "gradient_accumulation_steps", "max_grad_norm", "eval_steps", "save_steps", "logging_steps", "early_stopping_patience", "load_best_at_end",
    ];

    /// <summary>Reads a "training" JSON object; unknown fields and wrong types are a <see cref="ConfigException"/> naming the field.</summary>
    public static TrainingSettings Read(JsonObject json, string source)
    {
        var reader = new ConfigReader(json, source);
        var unknown = json.Select(p => p.Key).Where(k => !FieldNames.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new ConfigException(source, $"training.{unknown[0]}", $"unknown training setting (known: {string.Join(", ", FieldNames)})");
        return new TrainingSettings
        {
            LearningRate = reader.Has("learning_rate") ? reader.Double("learning_rate") : null,
            Epochs = reader.IntOrNull("epochs"),
            MaxSteps = reader.IntOrNull("max_steps"),
            BatchSize = reader.IntOrNull("batch_size"),
            MaxLength = reader.IntOrNull("max_length"),
            Seed = reader.IntOrNull("seed"),
            Precision = reader.StringOrNull("precision") is { } p ? ParsePrecision(p, source) : null,
            WarmupRatio = reader.Has("warmup_ratio") ? reader.Double("warmup_ratio") : null,
            WarmupSteps = reader.IntOrNull("warmup_steps"),
            WeightDecay = reader.Has("weight_decay") ? reader.Double("weight_decay") : null,
            Schedule = reader.StringOrNull("schedule") is { } s ? ParseSchedule(s, source) : null,
            GradientAccumulationSteps = reader.IntOrNull("gradient_accumulation_steps"),
            MaxGradNorm = reader.Has("max_grad_norm") ? reader.Double("max_grad_norm") : null,
            EvalSteps = reader.IntOrNull("eval_steps"),
            SaveSteps = reader.IntOrNull("save_steps"),
            LoggingSteps = reader.IntOrNull("logging_steps"),
            EarlyStoppingPatience = reader.IntOrNull("early_stopping_patience"),
            LoadBestAtEnd = reader.Has("load_best_at_end") ? reader.Bool("load_best_at_end", false) : null,
        };
    }

    /// <summary>The settings as a "training" JSON object (unset fields left out).</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject();
        void Add(string name, JsonNode? value)
        {
            if (value is not null) json[name] = value;
        }
        Add("learning_rate", LearningRate);
        Add("epochs", Epochs);
        Add("max_steps", MaxSteps);
        Add("batch_size", BatchSize);
        Add("max_length", MaxLength);
        Add("seed", Seed);
        Add("precision", Precision is { } p ? PrecisionName(p) : null);
        Add("warmup_ratio", WarmupRatio);
        Add("warmup_steps", WarmupSteps);
        Add("weight_decay", WeightDecay);
        Add("schedule", Schedule?.ToString().ToLowerInvariant());
        Add("gradient_accumulation_steps", GradientAccumulationSteps);
        Add("max_grad_norm", MaxGradNorm);
        Add("eval_steps", EvalSteps);
        Add("save_steps", SaveSteps);
        Add("logging_steps", LoggingSteps);
        Add("early_stopping_patience", EarlyStoppingPatience);
        Add("load_best_at_end", LoadBestAtEnd);
        return json;
    }

    /// <summary>"bf16" or "fp32".</summary>
    public static string PrecisionName(TrainingPrecision precision) => precision == TrainingPrecision.BFloat16 ? "bf16" : "fp32";

    /// <summary>"bf16" (also "bfloat16") or "fp32" (also "float32").</summary>
    /// <exception cref="ConfigException">Anything else.</exception>
    public static TrainingPrecision ParsePrecision(string value, string source) => value.ToLowerInvariant() switch
    {
        "bf16" or "bfloat16" => TrainingPrecision.BFloat16,
        "fp32" or "float32" => TrainingPrecision.Float32,
        _ => throw new ConfigException(source, "training.precision", $"'{value}' is not bf16 or fp32"),
    };

    static LearningRateSchedule ParseSchedule(string value, string source) =>
        Enum.TryParse<LearningRateSchedule>(value, ignoreCase: true, out var schedule) && Enum.IsDefined(schedule)
            ? schedule
            : throw new ConfigException(source, "training.schedule", $"'{value}' is not linear, cosine or constant");
}
