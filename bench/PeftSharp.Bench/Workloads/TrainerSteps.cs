using PeftSharp.Models;
using PeftSharp.Training;
using static TorchSharp.torch;

namespace PeftSharp.Bench.Workloads;

/// <summary>
/// Times optimizer steps of the library's own <see cref="Trainer"/> (forward, loss, backward, clipping, AdamW step), so
/// the benchmarks measure the training loop users run rather than a copy of it. A trainer runs once, so every
/// measurement builds a fresh one over the same model and data and runs it for a few steps; the step times come from
/// its progress reports (one per step, <see cref="TrainingProgress.Elapsed"/> since the run began), reported
/// synchronously on the training thread.
/// </summary>
public static class TrainerSteps
{
    /// <summary>
    /// Runs <paramref name="warmupSteps"/> + <paramref name="measuredSteps"/> steps of a new trainer and returns the mean
    /// seconds of the measured ones. Warm-up steps absorb what only a run's first step does: AdamW allocating its two
    /// moment tensors per trained parameter (for full fine-tuning of BERT-base, 0.9 GB of first-touched memory).
    /// </summary>
    /// <param name="model">The model; its parameters that require grad are trained (they change from run to run).</param>
    /// <param name="checkpointing">Activation checkpointing on or off for this run (set on every transformer inside).</param>
    public static double SecondsPerStep(nn.Module<ModelInputs, ModelOutputs> model, IBatchSource data, ITrainingObjective objective,
        TrainingPrecision precision, bool checkpointing, int warmupSteps, int measuredSteps)
    {
        if (measuredSteps < 1) throw new ArgumentOutOfRangeException(nameof(measuredSteps), "measure at least one step");
        var elapsed = new List<double>();
        Run(model, data, objective, precision, checkpointing, warmupSteps + measuredSteps, p => elapsed.Add(p.Elapsed.TotalSeconds));
        // Reports come after every step; the run's clock starts just before the first.
        double start = warmupSteps == 0 ? 0 : elapsed[warmupSteps - 1];
        return (elapsed[^1] - start) / measuredSteps;
    }

    /// <summary>Runs a new trainer for <paramref name="steps"/> steps, calling <paramref name="afterStep"/> after each.</summary>
    public static TrainingResult Run(nn.Module<ModelInputs, ModelOutputs> model, IBatchSource data, ITrainingObjective objective,
        TrainingPrecision precision, bool checkpointing, int steps, Action<TrainingProgress>? afterStep = null)
    {
        // TrainingOptions.GradientCheckpointing = false leaves a model's flag as an earlier run set it, so set it both ways.
        foreach (var transformer in model.modules().Prepend(model).OfType<TransformerModel>()) transformer.GradientCheckpointing = checkpointing;
        var options = new TrainingOptions
        {
            MaxSteps = steps, LoggingSteps = 1, Precision = precision, GradientCheckpointing = checkpointing,
            Schedule = LearningRateSchedule.Constant,
        };
        var result = new Trainer(model, objective, data, options).Train(afterStep is null ? null : new Synchronous<TrainingProgress>(afterStep));
        if (result.Steps != steps || result.SkippedSteps > 0)
            throw new InvalidOperationException($"the trainer ran {result.Steps} of {steps} steps, {result.SkippedSteps} skipped (non-finite loss)");
        return result;
    }

    /// <summary>Reports progress on the training thread at once (Progress&lt;T&gt; would post to the thread pool).</summary>
    sealed class Synchronous<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
