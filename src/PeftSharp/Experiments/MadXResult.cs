using PeftSharp.Training;

namespace PeftSharp.Experiments;

/// <summary>One language (domain): its dataset, the language adapter trained on its text, and the held-out text it is scored on.</summary>
public sealed record LanguageAdapterOutcome
{
    /// <summary>The dataset's name ("sotu-text").</summary>
    public required string Data { get; init; }

    /// <summary>The adapter's name on the model and its folder under adapters/.</summary>
    public required string Adapter { get; init; }

    /// <summary>Training texts of the dataset (before long ones are cut to the input length).</summary>
    public required int TrainExamples { get; init; }

    /// <summary>"test", or "validation" for data without a test split: the held-out text every model is scored on.</summary>
    public required string HeldOutSplit { get; init; }

    /// <summary>Held-out texts scored (after any cap).</summary>
    public required int HeldOutExamples { get; init; }

    /// <summary>Parameters of the adapter: bottleneck adapters and the invertible adapter.</summary>
    public long AdapterParameters { get; init; }

    /// <summary>Wall time of the training steps.</summary>
    public double TrainSeconds { get; init; }

    /// <summary>Training reports, one a step.</summary>
    public IReadOnlyList<TrainingProgress> History { get; init; } = [];
}

/// <summary>
/// One row of the language-modelling table: a model (the bare base, or the base with one language adapter) and its
/// language-modelling metrics ("loss", "perplexity", "token_accuracy") on each language's held-out text.
/// </summary>
/// <param name="Adapter">The language adapter, or null for the bare base model.</param>
/// <param name="HeldOut">Metrics by the held-out text's dataset name.</param>
public sealed record LanguageModelingRow(string? Adapter, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> HeldOut);

/// <summary>The task adapter's test metrics run over one language adapter, or over none.</summary>
/// <param name="LanguageAdapter">The language adapter stacked under the task adapter, or null for the task adapter alone.</param>
/// <param name="Metrics">The task's metrics ("accuracy", "macro_f1", "mcc", "loss").</param>
public sealed record TaskScore(string? LanguageAdapter, IReadOnlyDictionary<string, double> Metrics);

/// <summary>Everything a MAD-X run measured (<see cref="MadXExperiment"/>).</summary>
public sealed record MadXResult
{
    /// <summary>The options it ran with.</summary>
    public required MadXOptions Options { get; init; }

    /// <summary>The language-model objective of the language adapters: "masked-lm" or "causal-lm" (the model's own head).</summary>
    public required string Objective { get; init; }

    /// <summary>Longest input in tokens: --max-length, cut to the model's positions.</summary>
    public required int InputLength { get; init; }

    /// <summary>Parameters of the base model with its language-model head (tied weights counted once).</summary>
    public required long ModelParameters { get; init; }

    /// <summary>One per language, in the order of <see cref="MadXOptions.Languages"/> (the task's domain first).</summary>
    public required IReadOnlyList<LanguageAdapterOutcome> Languages { get; init; }

    /// <summary>The bare model first, then each language adapter (rows of those trained before an interruption).</summary>
    public required IReadOnlyList<LanguageModelingRow> LanguageModeling { get; init; }

    /// <summary>The task dataset's name.</summary>
    public required string TaskData { get; init; }

    /// <summary>The task adapter's name on the model and its folder under adapters/.</summary>
    public required string TaskAdapter { get; init; }

    /// <summary>The task's classes in id order.</summary>
    public required IReadOnlyList<string> Labels { get; init; }

    /// <summary>Training examples of the task.</summary>
    public required int TaskTrainExamples { get; init; }

    /// <summary>"test", or "validation" for data without a test split.</summary>
    public required string ScoredSplit { get; init; }

    /// <summary>Task examples scored (after any cap).</summary>
    public required int ScoredExamples { get; init; }

    /// <summary>The metric that ranks the task scores ("accuracy").</summary>
    public required string PrimaryMetric { get; init; }

    /// <summary>Parameters that trained with the task adapter: its bottleneck layers and its copy of the classification head.</summary>
    public long TaskTrainableParameters { get; init; }

    /// <summary>Wall time of the task adapter's training steps.</summary>
    public double TaskTrainSeconds { get; init; }

    /// <summary>The task adapter's training reports, one a step.</summary>
    public IReadOnlyList<TrainingProgress> TaskHistory { get; init; } = [];

    /// <summary>Tensors outside the task adapter (the base model and every language adapter) compared before and after the task training.</summary>
    public int FrozenTensorsChecked { get; init; }

    /// <summary>Those of them with any element changed during the task training, compared exactly (MAD-X keeps them frozen: empty).</summary>
    public IReadOnlyList<string> FrozenTensorsChanged { get; init; } = [];

    /// <summary>The task adapter scored over each language adapter (in language order), then alone.</summary>
    public IReadOnlyList<TaskScore> TaskScores { get; init; } = [];

    /// <summary>libtorch threads during the run.</summary>
    public required int Threads { get; init; }

    /// <summary>Wall time of the whole run.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>True when Ctrl+C stopped the run early (later tables are then missing).</summary>
    public bool Interrupted { get; init; }
}
