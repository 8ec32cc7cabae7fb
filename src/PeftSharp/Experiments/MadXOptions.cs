namespace PeftSharp.Experiments;

/// <summary>
/// What <see cref="MadXExperiment"/> runs: one pretrained model with a language-model head, two or more "languages"
/// (here: text domains, each a language-modelling dataset), a classification task of the first language's domain, and
/// the budgets. Every language adapter gets the same steps, batch size, learning rate and seed.
/// <see cref="Validate"/> throws <see cref="ArgumentException"/> naming the option.
/// </summary>
public sealed record MadXOptions
{
    /// <summary>The language datasets of the bundled demonstration: State of the Union addresses, then Brown-corpus prose.</summary>
    public static readonly IReadOnlyList<string> DefaultLanguages = ["sotu-text", "brown-text"];

    /// <summary>The bundled task of the first domain: the party of the president who gave a State of the Union passage.</summary>
    public const string DefaultTask = "sotu-party";

    /// <summary>The base model directory; its checkpoint must hold a masked- or causal-LM head.</summary>
    public string Model { get; init; } = ComparisonOptions.DefaultModel;

    /// <summary>Language-modelling datasets (catalog names or text files), one language adapter each; the first is the task's domain.</summary>
    public IReadOnlyList<string> Languages { get; init; } = DefaultLanguages;

    /// <summary>The classification dataset (catalog name or file) the task adapter learns, from the first language's domain.</summary>
    public string Task { get; init; } = DefaultTask;

    /// <summary>Optimizer steps of each language adapter's language-model training.</summary>
    public int LanguageSteps { get; init; } = 200;

    /// <summary>Optimizer steps of the task adapter's training.</summary>
    public int TaskSteps { get; init; } = 200;

    /// <summary>Peak learning rate of the language adapters (MAD-X's recipe, scaled to short runs: the Pfeiffer recipe's rate).</summary>
    public double LanguageLearningRate { get; init; } = 1e-3;

    /// <summary>Peak learning rate of the task adapter.</summary>
    public double TaskLearningRate { get; init; } = 1e-3;

    /// <summary>Examples per step, in every training and evaluation.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Longest input in tokens (cut further to the model's positions).</summary>
    public int MaxLength { get; init; } = 128;

    /// <summary>Seeds the adapters' initial values, the task head, the batch order, the masks and dropout.</summary>
    public long Seed { get; init; } = 42;

    /// <summary>Share of each training run's steps spent warming up the learning rate (then linear decay).</summary>
    public double WarmupRatio { get; init; } = 0.06;

    /// <summary>libtorch threads; 0 leaves libtorch's choice.</summary>
    public int Threads { get; init; }

    /// <summary>Score at most this many held-out texts per language and task test examples (a fixed sample); null scores all.</summary>
    public int? MaxTestExamples { get; init; }

    /// <summary>Where the adapters (adapters/&lt;name&gt;/) and training logs (training/&lt;name&gt;/metrics.jsonl) go; null uses a temporary folder.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>The dataset cache; null is the default.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Checks every option; throws <see cref="ArgumentException"/> whose ParamName is the option.</summary>
    public void Validate()
    {
        Require(!string.IsNullOrWhiteSpace(Model), nameof(Model), "must name a model directory");
        Require(Languages is { Count: >= 2 }, nameof(Languages), "must name at least two language datasets (the task's domain first)");
        Require(Languages.All(l => !string.IsNullOrWhiteSpace(l)), nameof(Languages), "must not hold empty names");
        Require(Languages.Distinct(StringComparer.OrdinalIgnoreCase).Count() == Languages.Count, nameof(Languages), "must name each dataset once");
        Require(!string.IsNullOrWhiteSpace(Task), nameof(Task), "must name a classification dataset");
        Require(LanguageSteps > 0, nameof(LanguageSteps), "must be positive");
        Require(TaskSteps > 0, nameof(TaskSteps), "must be positive");
        Require(double.IsFinite(LanguageLearningRate) && LanguageLearningRate > 0, nameof(LanguageLearningRate), "must be a positive number");
        Require(double.IsFinite(TaskLearningRate) && TaskLearningRate > 0, nameof(TaskLearningRate), "must be a positive number");
        Require(BatchSize > 0, nameof(BatchSize), "must be positive");
        Require(MaxLength >= 8, nameof(MaxLength), "must be at least 8");
        Require(WarmupRatio is >= 0 and < 1, nameof(WarmupRatio), "must be in [0, 1)");
        Require(Threads >= 0, nameof(Threads), "must be 0 (libtorch's choice) or more");
        Require(MaxTestExamples is null or > 0, nameof(MaxTestExamples), "must be positive");
    }

    static void Require(bool condition, string option, string message)
    {
        if (!condition) throw new ArgumentException($"MAD-X option {option} {message}", option);
    }
}
