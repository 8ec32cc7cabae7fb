using PeftSharp.Training;

namespace PeftSharp.Experiments;

/// <summary>
/// What <see cref="ComparisonRunner"/> runs: one model, one task, the methods, and the budget every method gets
/// (the same steps, batch size, sequence length and seed). <see cref="Validate"/> throws <see cref="ArgumentException"/>
/// naming the option.
/// </summary>
public sealed record ComparisonOptions
{
    /// <summary>The bundled pretrained encoder, relative to the repository root.</summary>
    public const string DefaultModel = "models/peftsharp-bert-mini";

    /// <summary>
    /// The bundled task: SpamAssassin mails, ham or spam. (15-way Brown genre classification is the harder alternative:
    /// at the default budget the bundled encoder learns little more than the class priors there; see the README.)
    /// </summary>
    public const string DefaultData = "spam";

    /// <summary>The base model directory.</summary>
    public string Model { get; init; } = DefaultModel;

    /// <summary>The task's data: a catalog name or a file.</summary>
    public string Data { get; init; } = DefaultData;

    /// <summary>Recipe names to run, in order; null runs every recipe of <see cref="MethodRecipes"/>.</summary>
    public IReadOnlyList<string>? Methods { get; init; }

    /// <summary>Optimizer steps per method (the budget).</summary>
    public int Steps { get; init; } = 300;

    /// <summary>Examples per step.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Longest input in tokens.</summary>
    public int MaxLength { get; init; } = 64;

    /// <summary>Seeds the head, the adapters, the batch order and dropout; the same for every method.</summary>
    public long Seed { get; init; } = 42;

    /// <summary>Share of the steps spent warming up the learning rate.</summary>
    public double WarmupRatio { get; init; } = 0.06;

    /// <summary>Learning rates replacing recipes' defaults, by recipe name.</summary>
    public IReadOnlyDictionary<string, double> LearningRates { get; init; } = new Dictionary<string, double>();

    /// <summary>Float32, or BFloat16 (bf16 base, float32 adapters).</summary>
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Float32;

    /// <summary>libtorch threads; 0 leaves libtorch's choice.</summary>
    public int Threads { get; init; }

    /// <summary>Score at most this many test examples (a fixed sample); null scores all.</summary>
    public int? MaxTestExamples { get; init; }

    /// <summary>Also measure the language-modelling loss on held-out pretraining text before and after each method.</summary>
    public bool Forgetting { get; init; }

    /// <summary>Held-out pretraining sequences for <see cref="Forgetting"/>.</summary>
    public int ForgettingSequences { get; init; } = 128;

    /// <summary>Training-set sizes for the low-data runs (each method trained again on that many examples); empty for none.</summary>
    public IReadOnlyList<int> LowData { get; init; } = [];

    /// <summary>Measure inference latency (unmerged and merged, batch 1 and <see cref="LatencyBatch"/>).</summary>
    public bool Latency { get; init; } = true;

    /// <summary>Rows of the large latency batch.</summary>
    public int LatencyBatch { get; init; } = 32;

    /// <summary>Measured rounds per latency figure (each runs the base model and the measured one).</summary>
    public int LatencyRounds { get; init; } = 5;

    /// <summary>Where each method's metrics.jsonl and adapter go (a folder per method); null keeps adapters in a temporary folder.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>The dataset cache; null is the default.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Checks every option; throws <see cref="ArgumentException"/> whose ParamName is the option.</summary>
    public void Validate()
    {
        Require(!string.IsNullOrWhiteSpace(Model), nameof(Model), "must name a model directory");
        Require(!string.IsNullOrWhiteSpace(Data), nameof(Data), "must name a dataset");
        Require(Methods is null || Methods.Count > 0, nameof(Methods), "must name at least one method");
        Require(Steps > 0, nameof(Steps), "must be positive");
        Require(BatchSize > 0, nameof(BatchSize), "must be positive");
        Require(MaxLength >= 8, nameof(MaxLength), "must be at least 8");
        Require(WarmupRatio is >= 0 and < 1, nameof(WarmupRatio), "must be in [0, 1)");
        Require(LearningRates.Values.All(v => double.IsFinite(v) && v > 0), nameof(LearningRates), "must be positive numbers");
        Require(Enum.IsDefined(Precision), nameof(Precision), "is not a known precision");
        Require(Threads >= 0, nameof(Threads), "must be 0 (libtorch's choice) or more");
        Require(MaxTestExamples is null or > 0, nameof(MaxTestExamples), "must be positive");
        Require(ForgettingSequences > 0, nameof(ForgettingSequences), "must be positive");
        Require(LowData.All(n => n > 0), nameof(LowData), "sizes must be positive");
        Require(LatencyBatch > 0 && LatencyRounds > 0, nameof(LatencyRounds), "latency batch and rounds must be positive");
        foreach (string name in Methods ?? []) MethodRecipes.Find(name);
        foreach (string name in LearningRates.Keys) MethodRecipes.Find(name);
    }

    /// <summary>The recipes to run.</summary>
    public IReadOnlyList<MethodRecipe> Recipes => Methods?.Select(MethodRecipes.Find).ToList() ?? MethodRecipes.All;

    static void Require(bool condition, string option, string message)
    {
        if (!condition) throw new ArgumentException($"comparison option {option} {message}", option);
    }
}
