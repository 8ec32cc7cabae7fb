namespace PeftSharp.Training;

/// <summary>
/// The training data as one stream of micro-batches across epochs: epoch e is <see cref="IBatchSource.Epoch"/>(e, seed),
/// so any position (micro-batches consumed) can be reached again by a resumed run.
/// </summary>
internal sealed class BatchStream : IDisposable
{
    readonly IBatchSource _source;
    readonly long _seed;
    IEnumerator<TrainingBatch>? _epoch;

    public BatchStream(IBatchSource source, long seed, long position)
    {
        if (source.BatchesPerEpoch <= 0) throw new ArgumentException("the training data has no batches (BatchesPerEpoch is 0)", nameof(source));
        _source = source;
        _seed = seed;
        Position = position;
    }

    /// <summary>Micro-batches consumed.</summary>
    public long Position { get; private set; }

    public long Epoch => Position / _source.BatchesPerEpoch;
    public long BatchInEpoch => Position % _source.BatchesPerEpoch;

    /// <summary>The next micro-batch; the caller disposes it.</summary>
    public TrainingBatch Next()
    {
        if (_epoch is null)
        {
            _epoch = _source.Epoch(checked((int)Epoch), _seed).GetEnumerator();
            for (long i = 0; i < BatchInEpoch; i++) Advance().Dispose();      // resuming in the middle of an epoch
        }
        var batch = Advance();
        Position++;
        if (BatchInEpoch == 0)
        {
            _epoch.Dispose();
            _epoch = null;
        }
        return batch;
    }

    TrainingBatch Advance()
    {
        if (!_epoch!.MoveNext())
            throw new InvalidOperationException(
                $"epoch {Epoch} of the training data ended after {BatchInEpoch} batches, but BatchesPerEpoch is {_source.BatchesPerEpoch}");
        return _epoch.Current;
    }

    public void Dispose() => _epoch?.Dispose();
}
