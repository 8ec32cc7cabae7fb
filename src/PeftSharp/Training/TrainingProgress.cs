namespace PeftSharp.Training;

/// <summary>
/// What a run reports after a logged step (every <see cref="TrainingOptions.LoggingSteps"/> steps, and after each
/// evaluation): the same figures as a line of metrics.jsonl.
/// </summary>
public sealed record TrainingProgress
{
    /// <summary>Optimizer steps done.</summary>
    public required long Step { get; init; }

    /// <summary>Optimizer steps the run will take.</summary>
    public required long TotalSteps { get; init; }

    /// <summary>Epochs done, fractional (micro-batches consumed / batches per epoch).</summary>
    public required double Epoch { get; init; }

    /// <summary>Mean training loss over the steps since the last report (skipped steps left out; NaN if all were skipped).</summary>
    public required double Loss { get; init; }

    /// <summary>Learning rate of the last step.</summary>
    public required double LearningRate { get; init; }

    /// <summary>Global gradient norm of the last step, before clipping (NaN or infinite on a skipped step).</summary>
    public required double GradNorm { get; init; }

    /// <summary>Real (unpadded) tokens per second since the last report.</summary>
    public required double TokensPerSecond { get; init; }

    /// <summary>Time since this session (fresh or resumed) started.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Estimated time to the last step at this session's mean pace.</summary>
    public required TimeSpan Eta { get; init; }

    /// <summary>Steps skipped so far for a non-finite loss or gradient.</summary>
    public required long SkippedSteps { get; init; }

    /// <summary>Metrics of an evaluation run at this step, else null.</summary>
    public IReadOnlyDictionary<string, double>? Evaluation { get; init; }
}
