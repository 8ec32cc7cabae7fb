using PeftSharp.Training;

namespace PeftSharp.Experiments;

/// <summary>What one method did in a comparison (a row of the table).</summary>
public sealed record MethodOutcome
{
    /// <summary>Recipe name.</summary>
    public required string Method { get; init; }

    /// <summary>The recipe's one-line summary.</summary>
    public required string Summary { get; init; }

    /// <summary>peft_type of the adapter.</summary>
    public string? PeftType { get; init; }

    /// <summary>Peak learning rate used.</summary>
    public required double LearningRate { get; init; }

    /// <summary>Training examples available (all, or a low-data subset).</summary>
    public required int TrainExamples { get; init; }

    /// <summary>Parameters that trained (adapter and task head; PEFT's print_trainable_parameters count).</summary>
    public long TrainableParameters { get; init; }

    /// <summary>Trainable parameters as a percentage of the base model's (task head included).</summary>
    public double TrainablePercent { get; init; }

    /// <summary>
    /// Positions the model leaves for the input with this method: its position limit minus the virtual tokens of
    /// prompt-learning methods (the seeds' point that prompts eat into the context); 0 when not measured.
    /// </summary>
    public int ContextLeft { get; init; }

    /// <summary>Size of adapter_model.safetensors, or null when not saved.</summary>
    public long? AdapterBytes { get; init; }

    /// <summary>Adapter file over model weight file.</summary>
    public double? AdapterRatio { get; init; }

    /// <summary>Test (or validation) metrics after training.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>Seconds spent in training steps (evaluation and measurements excluded).</summary>
    public double TrainSeconds { get; init; }

    /// <summary>Peak resident memory during training above the resident memory before it (Linux), or null.</summary>
    public long? PeakMemoryBytes { get; init; }

    /// <summary>Adapted model, adapters applied at run time: batch 1 and the large batch, against the base model.</summary>
    public IReadOnlyList<LatencyMeasurement> Unmerged { get; init; } = [];

    /// <summary>After merging into the base weights (empty when the method cannot merge).</summary>
    public IReadOnlyList<LatencyMeasurement> Merged { get; init; } = [];

    /// <summary>Language-modelling loss on held-out pretraining text after training, or null.</summary>
    public double? ForgettingLoss { get; init; }

    /// <summary>Training reports, one a step.</summary>
    public IReadOnlyList<TrainingProgress> History { get; init; } = [];

    /// <summary>Why the method failed (then most figures are missing), or null.</summary>
    public string? Error { get; init; }

    /// <summary>True when the run was interrupted during this method.</summary>
    public bool Interrupted { get; init; }
}

/// <summary>A method's score when trained on part of the training set.</summary>
/// <param name="Method">Recipe name.</param>
/// <param name="TrainExamples">Training examples used.</param>
/// <param name="Metrics">Test metrics, empty on failure.</param>
/// <param name="Error">Why it failed, or null.</param>
public sealed record LowDataOutcome(string Method, int TrainExamples, IReadOnlyDictionary<string, double> Metrics, string? Error = null);

/// <summary>Everything a comparison measured.</summary>
public sealed record ComparisonResult
{
    /// <summary>The options it ran with.</summary>
    public required ComparisonOptions Options { get; init; }

    /// <summary>The dataset's name.</summary>
    public required string DataName { get; init; }

    /// <summary>The task head ("seq-cls", ...).</summary>
    public required string Task { get; init; }

    /// <summary>Number of classes, or null for language modelling.</summary>
    public int? Labels { get; init; }

    /// <summary>Training examples.</summary>
    public required int TrainExamples { get; init; }

    /// <summary>
    /// Longest input in tokens that every method saw: --max-length, cut to what the method with the most virtual
    /// tokens leaves of the model's positions.
    /// </summary>
    public required int InputLength { get; init; }

    /// <summary>Examples scored, and from which split.</summary>
    public required int ScoredExamples { get; init; }

    /// <summary>"test" or "validation".</summary>
    public required string ScoredSplit { get; init; }

    /// <summary>The evaluator's metric that ranks methods, and whether higher is better.</summary>
    public required string PrimaryMetric { get; init; }

    /// <summary>True when a higher <see cref="PrimaryMetric"/> is better.</summary>
    public required bool HigherIsBetter { get; init; }

    /// <summary>Parameters of the base model with the task head.</summary>
    public required long ModelParameters { get; init; }

    /// <summary>Size of the model's weight files.</summary>
    public required long ModelFileBytes { get; init; }

    /// <summary>dtype of the model's weight files ("bfloat16").</summary>
    public string? ModelFileDType { get; init; }

    /// <summary>Language-modelling loss of the pretrained model on held-out pretraining text, when measured.</summary>
    public double? ForgettingBaseLoss { get; init; }

    /// <summary>"masked-lm" or "causal-lm", when forgetting was measured.</summary>
    public string? ForgettingObjective { get; init; }

    /// <summary>Held-out sequences of the forgetting measurement.</summary>
    public int? ForgettingSequences { get; init; }

    /// <summary>libtorch threads during the run.</summary>
    public required int Threads { get; init; }

    /// <summary>One row per method.</summary>
    public required IReadOnlyList<MethodOutcome> Methods { get; init; }

    /// <summary>Scores by training-set size (empty without low-data runs).</summary>
    public IReadOnlyList<LowDataOutcome> LowData { get; init; } = [];

    /// <summary>Wall time of the whole comparison.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>True when Ctrl+C stopped the run early.</summary>
    public bool Interrupted { get; init; }
}
