namespace PeftSharp.Training;

/// <summary>Why a run ended.</summary>
public enum TrainingStopReason
{
    /// <summary>Every step was taken.</summary>
    Completed,

    /// <summary>The primary metric stopped improving (<see cref="TrainingOptions.EarlyStoppingPatience"/>).</summary>
    EarlyStopped,

    /// <summary>The cancellation token fired; a checkpoint was written if the run has an output directory.</summary>
    Cancelled,
}

/// <summary>The outcome of <see cref="Trainer.Train"/> or <see cref="Trainer.Resume"/>.</summary>
public sealed record TrainingResult
{
    /// <summary>Why the run ended.</summary>
    public required TrainingStopReason StopReason { get; init; }

    /// <summary>Optimizer steps done (skipped ones included).</summary>
    public required long Steps { get; init; }

    /// <summary>Optimizer steps the run was set to take.</summary>
    public required long TotalSteps { get; init; }

    /// <summary>Mean loss of the last step that was not skipped (NaN if none).</summary>
    public required double FinalLoss { get; init; }

    /// <summary>Steps skipped for a non-finite loss or gradient.</summary>
    public required long SkippedSteps { get; init; }

    /// <summary>Best value of the evaluator's primary metric, or null without evaluations.</summary>
    public double? BestMetric { get; init; }

    /// <summary>Step of the best evaluation, or null.</summary>
    public long? BestStep { get; init; }

    /// <summary>Metrics of the last evaluation, or null.</summary>
    public IReadOnlyDictionary<string, double>? LastEvaluation { get; init; }

    /// <summary>The last checkpoint written, or null.</summary>
    public string? LastCheckpoint { get; init; }

    /// <summary>Every progress report of this session, in order.</summary>
    public required IReadOnlyList<TrainingProgress> History { get; init; }
}
