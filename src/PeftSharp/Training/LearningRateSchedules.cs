namespace PeftSharp.Training;

/// <summary>
/// Learning-rate schedules as a multiplier of the peak rate for each optimizer step, a pure function of the step (so a
/// resumed run needs only the step number). The formulas are Hugging Face transformers' (optimization.py): warm-up
/// rises as step / warmup, so step 0 of a warmed-up run has rate 0.
/// </summary>
public static class LearningRateSchedules
{
    /// <summary>Multiplier for optimizer step <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    public static double Multiplier(LearningRateSchedule schedule, long step, long totalSteps, long warmupSteps)
    {
        if (step < warmupSteps) return (double)step / Math.Max(1, warmupSteps);
        double progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        return schedule switch
        {
            LearningRateSchedule.Linear => Math.Max(0.0, 1.0 - progress),
            LearningRateSchedule.Cosine => Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * progress))),
            LearningRateSchedule.Constant => 1.0,
            _ => throw new ArgumentOutOfRangeException(nameof(schedule), schedule, "unknown schedule"),
        };
    }

    /// <summary>Warm-up steps the options ask for: <see cref="TrainingOptions.WarmupSteps"/>, or the ratio of all steps rounded up.</summary>
    public static long WarmupSteps(TrainingOptions options, long totalSteps) =>
        options.WarmupSteps > 0 ? options.WarmupSteps : (long)Math.Ceiling(options.WarmupRatio * totalSteps);
}
