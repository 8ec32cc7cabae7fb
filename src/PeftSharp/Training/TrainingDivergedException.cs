namespace PeftSharp.Training;

/// <summary>Training produced a non-finite loss or gradient in too many consecutive steps (<see cref="TrainingOptions.MaxConsecutiveNonFiniteSteps"/>).</summary>
public sealed class TrainingDivergedException : PeftSharpException
{
    public TrainingDivergedException(long step, int consecutive, string detail)
        : base($"training diverged: {consecutive} consecutive steps up to step {step} had a non-finite loss or gradient ({detail}); " +
               "lower the learning rate, clip gradients (MaxGradNorm) or check the data")
    {
        Step = step;
        Consecutive = consecutive;
    }

    /// <summary>The step at which the run stopped.</summary>
    public long Step { get; }

    /// <summary>Skipped steps in a row.</summary>
    public int Consecutive { get; }
}
