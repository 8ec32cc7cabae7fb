namespace PeftSharp.Training;

/// <summary>Where a run stands: everything besides tensors that a resumed run needs (saved as trainer_state.json).</summary>
internal sealed record TrainerState
{
    /// <summary>Version of the checkpoint layout.</summary>
    public int Format { get; init; } = 1;

    /// <summary>Optimizer steps taken (skipped ones included).</summary>
    public long Step { get; init; }

    /// <summary>Micro-batches consumed since the start.</summary>
    public long MicroBatches { get; init; }

    /// <summary>Epoch of the next micro-batch (for readers; derived from <see cref="MicroBatches"/>).</summary>
    public long Epoch { get; init; }

    /// <summary>Index in its epoch of the next micro-batch (for readers; derived from <see cref="MicroBatches"/>).</summary>
    public long BatchInEpoch { get; init; }

    /// <summary>Steps skipped for a non-finite loss or gradient.</summary>
    public long SkippedSteps { get; init; }

    /// <summary>Skipped steps in a row at the end.</summary>
    public int ConsecutiveSkipped { get; init; }

    /// <summary>Best value of the evaluator's primary metric so far.</summary>
    public double? BestMetric { get; init; }

    /// <summary>Step of the best evaluation.</summary>
    public long? BestStep { get; init; }

    /// <summary>Evaluations in a row that did not improve on the best (for early stopping).</summary>
    public int EvaluationsWithoutImprovement { get; init; }

    /// <summary>Metrics of the last evaluation.</summary>
    public Dictionary<string, double>? LastEvaluation { get; init; }

    /// <summary>AdamW's step count per parameter (its bias correction depends on it).</summary>
    public Dictionary<string, long> OptimizerSteps { get; init; } = new(StringComparer.Ordinal);
}
