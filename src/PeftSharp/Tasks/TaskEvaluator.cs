using PeftSharp.Data;
using PeftSharp.Models;
using PeftSharp.Training;
using static TorchSharp.torch;

namespace PeftSharp.Tasks;

/// <summary>
/// Runs a model over fixed evaluation batches (sorted by length; anything random seeded from a fixed seed) in eval
/// mode without gradients, restoring the model's mode afterwards, and reports "loss" (mean over counted labels)
/// plus the task's own metrics.
/// </summary>
abstract class TaskEvaluator : IEvaluator
{
    /// <summary>Seed of evaluation batches, so every evaluation sees the same MLM masks.</summary>
    const long EvaluationSeed = 0x5EED;

    readonly IReadOnlyList<EncodedExample> _examples;
    readonly int[] _lengths;
    readonly int _batchSize;
    readonly Func<IReadOnlyList<EncodedExample>, ulong, TrainingBatch> _collate;
    readonly Func<ModelOutputs, TrainingBatch, (Tensor Sum, long Count)> _lossTerms;

    protected TaskEvaluator(IReadOnlyList<EncodedExample> examples, int batchSize,
        Func<IReadOnlyList<EncodedExample>, ulong, TrainingBatch> collate, Func<ModelOutputs, TrainingBatch, (Tensor, long)> lossTerms)
    {
        _examples = examples;
        _lengths = examples.Select(e => e.Length).ToArray();
        _batchSize = batchSize;
        _collate = collate;
        _lossTerms = lossTerms;
    }

    public abstract string PrimaryMetric { get; }
    public abstract bool HigherIsBetter { get; }

    public IReadOnlyDictionary<string, double> Evaluate(nn.Module<ModelInputs, ModelOutputs> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Reset();
        double lossSum = 0;
        long lossCount = 0;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            var plan = BatchPlanner.Sequential(_lengths, _batchSize);
            for (int b = 0; b < plan.Count; b++)
            {
                using var scope = NewDisposeScope();
                using var batch = _collate(plan[b].Select(i => _examples[i]).ToList(), SeededRandom.Seed(EvaluationSeed, b));
                var outputs = model.call(batch.Inputs);
                var (sum, count) = _lossTerms(outputs, batch);
                lossSum += sum.item<float>();
                lossCount += count;
                Accumulate(outputs, batch);
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        double meanLoss = lossCount > 0 ? lossSum / lossCount : double.NaN;
        var metrics = Finish(meanLoss);
        metrics["loss"] = meanLoss;
        return metrics;
    }

    /// <summary>Clears what the last evaluation collected.</summary>
    protected abstract void Reset();

    /// <summary>Collects predictions of one batch.</summary>
    protected abstract void Accumulate(ModelOutputs outputs, TrainingBatch batch);

    /// <summary>The task's metrics from everything collected ("loss" is added afterwards).</summary>
    protected abstract Dictionary<string, double> Finish(double meanLoss);

    /// <summary>A tensor's values as a flat int64 array.</summary>
    protected static long[] Values(Tensor t)
    {
        using var flat = t.to(ScalarType.Int64).cpu().flatten();
        return flat.data<long>().ToArray();
    }
}
