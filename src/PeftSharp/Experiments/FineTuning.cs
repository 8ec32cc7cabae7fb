using PeftSharp.IO;
using PeftSharp.Models;
using PeftSharp.Training;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using static TorchSharp.torch;

namespace PeftSharp.Experiments;

/// <summary>
/// The steps every fine-tuning run shares (<c>peft train</c>, <c>peft eval</c>, <c>peft compare</c>): load the base model
/// with the task's head in the precision's dtype, attach a method's adapter with seeded initialisation, and train it.
/// </summary>
public static class FineTuning
{
    /// <summary>The dtype a model is loaded in for <paramref name="precision"/>: bf16 for a bf16 run, else float32.</summary>
    public static ScalarType DTypeFor(TrainingPrecision precision) => precision == TrainingPrecision.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32;

    /// <summary>
    /// Loads <paramref name="directory"/> with the head <paramref name="task"/> needs (a new classification head gets
    /// <paramref name="seed"/>-seeded weights, so every method starts from the same head).
    /// </summary>
    public static TransformerModel LoadModel(string directory, ExperimentTask task, TrainingPrecision precision, long seed)
    {
        ArgumentNullException.ThrowIfNull(task);
        var options = new ModelLoadOptions { Task = task.Head, DType = DTypeFor(precision), Labels = task.Labels, Seed = seed };
        return AutoModel.Load(directory, options).Model;
    }

    /// <summary>Freezes <paramref name="model"/> and attaches <paramref name="config"/> as the trainable adapter, its random initialisation drawn from <paramref name="seed"/>.</summary>
    public static PeftModel Attach(TransformerModel model, PeftConfig config, long seed)
    {
        // Methods draw their initial values (LoRA's A) from libtorch's default generator.
        using (manual_seed(seed)) { }
        return PeftModel.Create(model, config);
    }

    /// <summary>Trains the adapter of <paramref name="peft"/> on <paramref name="task"/>'s training batches (or resumes from <paramref name="checkpoint"/>).</summary>
    /// <param name="peft">The model with its trainable adapter.</param>
    /// <param name="task">The task.</param>
    /// <param name="options">The run's options.</param>
    /// <param name="evaluator">Scores evaluations during the run, or null.</param>
    /// <param name="progress">Step reports.</param>
    /// <param name="checkpoint">A checkpoint of an interrupted run to continue.</param>
    /// <param name="cancellation">Stops after the current step, writing a checkpoint when there is an output directory.</param>
    public static TrainingResult Train(PeftModel peft, ExperimentTask task, TrainingOptions options, IEvaluator? evaluator = null,
        IProgress<TrainingProgress>? progress = null, string? checkpoint = null, CancellationToken cancellation = default)
    {
        var trainer = new Trainer(peft, task.Objective, task.TrainBatches, options, evaluator);
        return checkpoint is null ? trainer.Train(progress, cancellation) : trainer.Resume(checkpoint, progress, cancellation);
    }

    /// <summary>Size in bytes of a model directory's weight files (one file, or every shard an index names).</summary>
    public static long WeightBytes(string directory)
    {
        string weights = CheckpointDirectory.FindWeights(directory);
        if (!weights.EndsWith(".index.json", StringComparison.Ordinal)) return new FileInfo(weights).Length;
        return Directory.EnumerateFiles(directory)
            .Where(f => Path.GetFileName(f) is var name && (name.StartsWith("model-", StringComparison.Ordinal) || name.StartsWith("pytorch_model-", StringComparison.Ordinal)))
            .Sum(f => new FileInfo(f).Length);
    }

    /// <summary>Whether every adapter module of <paramref name="peft"/> can be merged into the base weights (then MergeAndUnload gives a plain model).</summary>
    public static bool IsMergeable(PeftModel peft) =>
        peft.ForwardAdapters.All(a => a.AdapterNames.Count == 0)
        && peft.AdapterModules().All(m => m.Module is IMergeableAdapterModule || m.Module.AdapterNames.Count == 0);
}
