using PeftSharp.Models;
using PeftSharp.Training;
using static TorchSharp.torch;

namespace PeftSharp.Bench.Workloads;

/// <summary>
/// Training data for timing the trainer: <see cref="BatchesPerEpoch"/> batches of random token ids [batch, length]
/// (every token real, no padding) with random class labels [batch], reproducible from (epoch, seed). Only the shapes
/// matter for speed and memory; the loss has nothing to learn.
/// </summary>
public sealed class SyntheticClassificationBatches : IBatchSource
{
    readonly int _batch, _length, _labels;
    readonly long _vocab;

    public SyntheticClassificationBatches(int batch, int length, long vocab, int labels, int batchesPerEpoch = 4)
    {
        (_batch, _length, _vocab, _labels) = (batch, length, vocab, labels);
        BatchesPerEpoch = batchesPerEpoch;
    }

    public int BatchesPerEpoch { get; }

    /// <summary>Tokens of one batch (batch x length), all real.</summary>
    public long TokensPerBatch => (long)_batch * _length;

    public IEnumerable<TrainingBatch> Epoch(int epoch, long seed)
    {
        for (int i = 0; i < BatchesPerEpoch; i++)
        {
            using var generator = new Generator(unchecked((ulong)(seed * 1_000_003 + epoch * 1009 + i)));
            var inputs = new ModelInputs
            {
                InputIds = randint(3, _vocab, new long[] { _batch, _length }, ScalarType.Int64, generator: generator),
                AttentionMask = ones(_batch, _length, ScalarType.Int64),
            };
            var labels = randint(0, _labels, new long[] { _batch }, ScalarType.Int64, generator: generator);
            yield return new TrainingBatch(inputs, labels, _batch);
        }
    }
}

/// <summary>
/// Mean cross-entropy of sequence-classification logits [batch, labels] against labels [batch], in float32. The
/// trainer calls it between the forward and the backward pass, so <see cref="AfterForward"/> (if set) runs at the
/// moment the graph holds every activation saved for backward (the memory suites sample the resident set there).
/// </summary>
public sealed class ClassificationLoss : ITrainingObjective
{
    /// <summary>Called once per micro-batch after its forward pass, before the loss and backward.</summary>
    public Action? AfterForward { get; set; }

    public Tensor Loss(ModelOutputs outputs, TrainingBatch batch)
    {
        AfterForward?.Invoke();
        var logits = outputs.Logits ?? throw new InvalidOperationException("the model produced no logits; it needs a classification head");
        return nn.functional.cross_entropy(logits.to(ScalarType.Float32), batch.Labels);
    }
}
