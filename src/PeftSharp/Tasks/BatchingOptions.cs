namespace PeftSharp.Tasks;

/// <summary>How a task cuts its examples into batches.</summary>
public sealed record BatchingOptions
{
    /// <summary>Examples per batch (the last batch of an epoch may be smaller).</summary>
    public int BatchSize
    {
        get;
        init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(BatchSize), value, "must be positive");
    } = 16;

    /// <summary>
    /// Longest sequence in tokens, special tokens included. Longer classification inputs are truncated (longest
    /// first for pairs); longer language-modelling texts are cut into several examples.
    /// </summary>
    public int MaxLength
    {
        get;
        init => field = value >= 4 ? value : throw new ArgumentOutOfRangeException(nameof(MaxLength), value, "must be at least 4");
    } = 128;

    /// <summary>
    /// Length bucketing: each epoch's shuffled examples are taken in chunks of this many batches, sorted by length
    /// inside a chunk and cut into batches, so a batch holds similar lengths and little padding; the batches are then
    /// shuffled. 1 turns bucketing off.
    /// </summary>
    public int BucketBatches
    {
        get;
        init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(BucketBatches), value, "must be positive");
    } = 50;

    /// <summary>The defaults: 16 examples, 128 tokens, chunks of 50 batches.</summary>
    public static BatchingOptions Default { get; } = new();
}
