using System.Collections.Concurrent;

namespace PeftSharp.Tokenization.Training;

/// <summary>Counts the words a pre-tokenizer makes of a corpus, in parallel over batches of texts.</summary>
static class WordCounter
{
    const int TextsPerBatch = 256;

    /// <param name="texts">The corpus.</param>
    /// <param name="split">Appends the words of one text to the list (normalization, pre-tokenization, alphabet mapping).</param>
    /// <param name="cancellation">Stops counting.</param>
    public static Dictionary<string, long> Count(IEnumerable<string> texts, Action<string, List<string>> split, CancellationToken cancellation)
    {
        var total = new Dictionary<string, long>(StringComparer.Ordinal);
        var gate = new object();
        var options = new ParallelOptions { CancellationToken = cancellation };
        Parallel.ForEach(Partitioner.Create(texts.Chunk(TextsPerBatch), EnumerablePartitionerOptions.NoBuffering), options,
            () => new Dictionary<string, long>(StringComparer.Ordinal),
            (batch, _, local) =>
            {
                var words = new List<string>();
                foreach (string text in batch)
                {
                    words.Clear();
                    split(text, words);
                    foreach (string word in words) local[word] = local.GetValueOrDefault(word) + 1;
                }
                return local;
            },
            local =>
            {
                lock (gate)
                    foreach (var (word, count) in local) total[word] = total.GetValueOrDefault(word) + count;
            });
        return total;
    }
}
