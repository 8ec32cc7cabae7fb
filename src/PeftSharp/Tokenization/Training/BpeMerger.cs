namespace PeftSharp.Tokenization.Training;

/// <summary>
/// The byte-pair-encoding training loop over word frequencies (Sennrich et al. 2016; Hugging Face's BpeTrainer):
/// repeatedly merge the most frequent adjacent pair of symbols, counting a pair once per occurrence in a word times
/// the word's frequency. Ties go to the lexically smallest pair (ordinal order of the left, then the right symbol),
/// so the result depends only on the word counts.
/// </summary>
/// <remarks>
/// Incremental, as in Hugging Face: pair counts and the words holding each pair are kept up to date; after a merge
/// only the words that held the merged pair are rewritten and the counts of the pairs they gain or lose adjusted.
/// A priority queue holds (count, pair) entries; an entry whose count is stale when it reaches the top is pushed
/// back with the current count.
/// </remarks>
sealed class BpeMerger
{
    readonly List<string> _tokens;
    readonly Dictionary<string, int> _ids;
    readonly int[][] _words;
    readonly long[] _counts;
    readonly Dictionary<long, long> _pairCounts = new();
    readonly Dictionary<long, HashSet<int>> _pairWords = new();
    readonly Func<string, string, string> _join;

    /// <param name="alphabet">The initial symbols (ids in this order).</param>
    /// <param name="words">Each distinct word as its initial symbols (all in <paramref name="alphabet"/>) with its frequency.</param>
    /// <param name="join">The token a merge of (left, right) makes; WordPiece drops the right side's "##".</param>
    public BpeMerger(IReadOnlyList<string> alphabet, IReadOnlyList<(string[] Symbols, long Count)> words, Func<string, string, string> join)
    {
        _tokens = [.. alphabet];
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _tokens.Count; i++)
            if (!_ids.TryAdd(_tokens[i], i)) throw new ArgumentException($"symbol '{_tokens[i]}' is listed twice", nameof(alphabet));
        _join = join;
        _words = new int[words.Count][];
        _counts = new long[words.Count];
        for (int w = 0; w < words.Count; w++)
        {
            _words[w] = words[w].Symbols.Select(s => _ids.TryGetValue(s, out int id) ? id
                : throw new ArgumentException($"word {w} holds '{s}', which is not in the alphabet", nameof(words))).ToArray();
            _counts[w] = words[w].Count;
            var symbols = _words[w];
            for (int i = 0; i + 1 < symbols.Length; i++)
            {
                long pair = Pair(symbols[i], symbols[i + 1]);
                _pairCounts[pair] = _pairCounts.GetValueOrDefault(pair) + _counts[w];
                Words(pair).Add(w);
            }
        }
    }

    /// <summary>Every symbol so far: the alphabet, then one per merge that made a new token.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>Runs up to <paramref name="maxMerges"/> merges, stopping early when no pair occurs <paramref name="minFrequency"/> times.</summary>
    /// <returns>The merges in rank order.</returns>
    public List<(string Left, string Right)> Merge(int maxMerges, long minFrequency, CancellationToken cancellation = default)
    {
        var comparer = Comparer<(long Count, long Pair)>.Create((x, y) =>
        {
            if (x.Count != y.Count) return y.Count.CompareTo(x.Count); // larger counts first
            var (xl, xr) = Unpack(x.Pair);
            var (yl, yr) = Unpack(y.Pair);
            int left = string.CompareOrdinal(_tokens[xl], _tokens[yl]);
            return left != 0 ? left : string.CompareOrdinal(_tokens[xr], _tokens[yr]);
        });
        var queue = new PriorityQueue<long, (long Count, long Pair)>(comparer);
        foreach (var (pair, count) in _pairCounts) queue.Enqueue(pair, (count, pair));

        var merges = new List<(string, string)>();
        while (merges.Count < maxMerges && queue.TryDequeue(out long top, out var priority))
        {
            cancellation.ThrowIfCancellationRequested();
            long current = _pairCounts.GetValueOrDefault(top);
            if (current != priority.Count)
            {
                if (current > 0) queue.Enqueue(top, (current, top));
                continue;
            }
            if (current < minFrequency) break;

            var (left, right) = Unpack(top);
            string merged = _join(_tokens[left], _tokens[right]);
            if (!_ids.TryGetValue(merged, out int id))
            {
                id = _tokens.Count;
                _tokens.Add(merged);
                _ids[merged] = id;
            }
            merges.Add((_tokens[left], _tokens[right]));

            var deltas = new Dictionary<long, long>();
            foreach (int w in _pairWords[top]) Rewrite(w, left, right, id, deltas);
            _pairCounts.Remove(top);
            _pairWords.Remove(top);
            foreach (var (pair, delta) in deltas)
            {
                if (pair == top || delta == 0) continue;
                long count = _pairCounts.GetValueOrDefault(pair) + delta;
                if (count > 0) _pairCounts[pair] = count;
                else _pairCounts.Remove(pair);
                if (delta > 0) queue.Enqueue(pair, (count, pair));
            }
        }
        return merges;
    }

    /// <summary>Replaces every (left, right) in word <paramref name="w"/> by <paramref name="merged"/>, left to right, and records how pair counts change.</summary>
    void Rewrite(int w, int left, int right, int merged, Dictionary<long, long> deltas)
    {
        var symbols = _words[w];
        var result = new List<int>(symbols.Length);
        for (int i = 0; i < symbols.Length; i++)
        {
            if (i + 1 < symbols.Length && symbols[i] == left && symbols[i + 1] == right)
            {
                result.Add(merged);
                i++;
            }
            else
            {
                result.Add(symbols[i]);
            }
        }
        if (result.Count == symbols.Length) return; // an index entry left over from an earlier rewrite

        long count = _counts[w];
        for (int i = 0; i + 1 < symbols.Length; i++)
        {
            long pair = Pair(symbols[i], symbols[i + 1]);
            deltas[pair] = deltas.GetValueOrDefault(pair) - count;
        }
        for (int i = 0; i + 1 < result.Count; i++)
        {
            long pair = Pair(result[i], result[i + 1]);
            deltas[pair] = deltas.GetValueOrDefault(pair) + count;
            if (result[i] == merged || result[i + 1] == merged) Words(pair).Add(w);
        }
        _words[w] = [.. result];
    }

    HashSet<int> Words(long pair)
    {
        if (!_pairWords.TryGetValue(pair, out var words)) _pairWords[pair] = words = [];
        return words;
    }

    static long Pair(int left, int right) => ((long)left << 32) | (uint)right;

    static (int Left, int Right) Unpack(long pair) => ((int)(pair >> 32), (int)(uint)pair);
}
