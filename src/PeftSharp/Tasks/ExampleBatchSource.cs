using PeftSharp.Data;
using PeftSharp.Training;

namespace PeftSharp.Tasks;

/// <summary>
/// Training batches of encoded examples: planned by <see cref="BatchPlanner.Epoch"/> and collated by the task,
/// which receives a seed derived from (seed, epoch, batch index) for anything random inside a batch (MLM masks).
/// </summary>
sealed class ExampleBatchSource : IBatchSource
{
    readonly IReadOnlyList<EncodedExample> _examples;
    readonly int[] _lengths;
    readonly BatchingOptions _options;
    readonly Func<IReadOnlyList<EncodedExample>, ulong, TrainingBatch> _collate;

    public ExampleBatchSource(IReadOnlyList<EncodedExample> examples, BatchingOptions options, Func<IReadOnlyList<EncodedExample>, ulong, TrainingBatch> collate)
    {
        if (examples.Count == 0) throw new ArgumentException("no examples to batch", nameof(examples));
        _examples = examples;
        _lengths = examples.Select(e => e.Length).ToArray();
        _options = options;
        _collate = collate;
    }

    public int BatchesPerEpoch => (_examples.Count + _options.BatchSize - 1) / _options.BatchSize;

    public IEnumerable<TrainingBatch> Epoch(int epoch, long seed)
    {
        var plan = BatchPlanner.Epoch(_lengths, _options.BatchSize, _options.BucketBatches, epoch, seed);
        for (int b = 0; b < plan.Count; b++)
            yield return _collate(plan[b].Select(i => _examples[i]).ToList(), SeededRandom.Seed(seed, epoch, b));
    }
}
