namespace PeftSharp.Tokenization.Training;

/// <summary>
/// Trains a GPT-2-style byte-level BPE tokenizer: texts are split into words by GPT-2's regex (the ByteLevel
/// pre-tokenizer), each word's UTF-8 bytes are written in GPT-2's byte alphabet, and pairs are merged by frequency
/// over the word counts (<see cref="BpeMerger"/>) until the vocabulary reaches <see cref="TokenizerTrainerOptions.VocabSize"/>.
/// The vocabulary is the special tokens, the 256 byte symbols in code-point order, then one token per merge.
/// Every text encodes without unknown tokens. Deterministic: ties go to the lexically smallest pair.
/// </summary>
public sealed class ByteLevelBpeTrainer
{
    /// <exception cref="ArgumentException">Repeated special tokens.</exception>
    public ByteLevelBpeTrainer(ByteLevelBpeTrainerOptions? options = null)
    {
        Options = options ?? new ByteLevelBpeTrainerOptions();
        SpecialTokens = new[] { Options.EndOfTextToken, Options.PadToken }.OfType<string>().Concat(Options.AdditionalSpecialTokens).ToList();
        if (SpecialTokens.Distinct(StringComparer.Ordinal).Count() != SpecialTokens.Count)
            throw new ArgumentException($"special tokens repeat: {string.Join(", ", SpecialTokens)}", nameof(options));
        if (Options.VocabSize < SpecialTokens.Count + 256)
            throw new ArgumentException($"VocabSize {Options.VocabSize} is smaller than the {SpecialTokens.Count} special tokens plus 256 byte symbols", nameof(options));
    }

    public ByteLevelBpeTrainerOptions Options { get; }

    /// <summary>Special tokens in id order: end-of-text, padding, then the additional ones.</summary>
    public IReadOnlyList<string> SpecialTokens { get; }

    /// <summary>Trains on <paramref name="texts"/> (enumerated once); special tokens inside a text are not learned from.</summary>
    public TrainedTokenizer Train(IEnumerable<string> texts, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var splitter = TextSplitter.ByteLevel(Options.AddPrefixSpace, useRegex: true);
        var specials = SpecialTokens.ToArray();
        var counts = WordCounter.Count(texts, (text, words) =>
        {
            var raw = new List<string>();
            foreach (string piece in text.Split(specials, StringSplitOptions.None))
                splitter.Split(piece, atStart: true, raw);
            foreach (string word in raw) words.Add(ByteLevelAlphabet.Encode(word));
        }, cancellation);

        var alphabet = ByteLevelAlphabet.ByteToChar.Select(c => c.ToString()).Order(StringComparer.Ordinal).ToList();
        var words = counts.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => (p.Key.Select(c => c.ToString()).ToArray(), p.Value)).ToList();
        var merger = new BpeMerger(alphabet, words, (left, right) => left + right);
        var merges = merger.Merge(Options.VocabSize - SpecialTokens.Count - alphabet.Count, Options.MinFrequency, cancellation);

        var roles = new Dictionary<string, string> { ["bos"] = Options.EndOfTextToken, ["eos"] = Options.EndOfTextToken, ["unk"] = Options.EndOfTextToken };
        if (Options.PadToken is { } pad) roles["pad"] = pad;
        return new TrainedTokenizer(TokenizerKind.ByteLevelBpe, [.. SpecialTokens, .. merger.Tokens], merges, roles, Options.AdditionalSpecialTokens,
            Options.AddPrefixSpace, lowercase: false, Options.ModelMaxLength, counts.Count);
    }
}
