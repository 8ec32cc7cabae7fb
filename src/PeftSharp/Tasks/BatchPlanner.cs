using PeftSharp.Data;

namespace PeftSharp.Tasks;

/// <summary>Which examples go into which batch, in which order: a pure function of the lengths, the options and (epoch, seed).</summary>
static class BatchPlanner
{
    /// <summary>
    /// A training epoch: shuffle all examples with a generator seeded from (seed, epoch); take them in chunks of
    /// <paramref name="bucketBatches"/> batches; sort each chunk by length, longest first (stable, so equal lengths
    /// keep their shuffled order); cut it into batches; shuffle the order of all batches with the same generator.
    /// </summary>
    public static List<int[]> Epoch(IReadOnlyList<int> lengths, int batchSize, int bucketBatches, int epoch, long seed)
    {
        var random = SeededRandom.For(seed, epoch, 0xBA7C4);
        var order = Enumerable.Range(0, lengths.Count).ToArray();
        random.Shuffle(order);

        int chunkSize = checked(batchSize * bucketBatches);
        var batches = new List<int[]>((lengths.Count + batchSize - 1) / batchSize);
        for (int start = 0; start < order.Length; start += chunkSize)
        {
            var chunk = order.Skip(start).Take(chunkSize).OrderByDescending(i => lengths[i]).ToArray();
            batches.AddRange(chunk.Chunk(batchSize));
        }
        random.Shuffle(batches);
        return batches;
    }

    /// <summary>Evaluation: every example once, sorted by length (longest first, then file order) to waste little padding.</summary>
    public static List<int[]> Sequential(IReadOnlyList<int> lengths, int batchSize) =>
        Enumerable.Range(0, lengths.Count).OrderByDescending(i => lengths[i]).Chunk(batchSize).ToList();
}
