using System.Text;

namespace PeftSharp.Tokenization.Training;

/// <summary>
/// Trains a BERT-style WordPiece vocabulary as Hugging Face's WordPieceTrainer does: text is normalized by BERT's
/// normalizer (lower-casing and accent stripping by default), split by BERT's pre-tokenizer, and each word is
/// spelled as its first character followed by "##"-prefixed characters; pairs are merged by frequency
/// (<see cref="BpeMerger"/>; "##a" + "##b" makes "##ab", "a" + "##b" makes "ab") until the vocabulary reaches
/// <see cref="TokenizerTrainerOptions.VocabSize"/>. The vocabulary is [PAD] [UNK] [CLS] [SEP] [MASK] (and any
/// additional special tokens), the alphabet (the <see cref="WordPieceTrainerOptions.LimitAlphabet"/> most frequent
/// characters, then their "##" forms, each in code-point order), then one token per merge. Encoding is
/// WordPiece's greedy longest match. Deterministic: ties go to the lexically smallest pair.
/// </summary>
public sealed class WordPieceTrainer
{
    const string Prefix = "##";

    static readonly string[] Roles = ["pad", "unk", "cls", "sep", "mask"];
    static readonly string[] RoleTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    /// <exception cref="ArgumentException">Repeated special tokens.</exception>
    public WordPieceTrainer(WordPieceTrainerOptions? options = null)
    {
        Options = options ?? new WordPieceTrainerOptions();
        SpecialTokens = [.. RoleTokens, .. Options.AdditionalSpecialTokens];
        if (SpecialTokens.Distinct(StringComparer.Ordinal).Count() != SpecialTokens.Count)
            throw new ArgumentException($"special tokens repeat: {string.Join(", ", SpecialTokens)}", nameof(options));
    }

    public WordPieceTrainerOptions Options { get; }

    /// <summary>Special tokens in id order: [PAD] [UNK] [CLS] [SEP] [MASK], then the additional ones.</summary>
    public IReadOnlyList<string> SpecialTokens { get; }

    /// <summary>Trains on <paramref name="texts"/> (enumerated once); special tokens inside a text are not learned from.</summary>
    public TrainedTokenizer Train(IEnumerable<string> texts, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var normalizer = TextNormalizer.Bert(cleanText: true, handleChineseChars: true, stripAccents: null, lowercase: Options.Lowercase);
        var splitter = TextSplitter.Bert();
        var specials = SpecialTokens.ToArray();
        var counts = WordCounter.Count(texts, (text, words) =>
        {
            foreach (string piece in text.Split(specials, StringSplitOptions.None))
                splitter.Split(normalizer.Normalize(piece), atStart: true, words);
        }, cancellation);

        // The alphabet: the most frequent characters (ties in code-point order), kept in code-point order.
        var characterCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (word, count) in counts)
            foreach (var rune in word.EnumerateRunes())
                characterCounts[rune.ToString()] = characterCounts.GetValueOrDefault(rune.ToString()) + count;
        var characters = characterCounts.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Take(Options.LimitAlphabet).Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
        var known = characters.ToHashSet(StringComparer.Ordinal);
        var alphabet = characters.Concat(characters.Select(c => Prefix + c)).ToList();

        // Words with a character outside the alphabet would be [UNK] whatever the merges; they take no part.
        var words = counts.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => (Symbols: Spell(p.Key), p.Value))
            .Where(w => w.Symbols.All(s => known.Contains(s.StartsWith(Prefix, StringComparison.Ordinal) && s.Length > Prefix.Length ? s[Prefix.Length..] : s)))
            .ToList();
        var merger = new BpeMerger(alphabet, words, (left, right) => left + (right.StartsWith(Prefix, StringComparison.Ordinal) ? right[Prefix.Length..] : right));
        int room = Math.Max(0, Options.VocabSize - SpecialTokens.Count - alphabet.Count);
        var merges = merger.Merge(room, Options.MinFrequency, cancellation);

        var roles = Roles.Zip(RoleTokens).ToDictionary(p => p.First, p => p.Second);
        return new TrainedTokenizer(TokenizerKind.WordPiece, [.. SpecialTokens, .. merger.Tokens], merges, roles, Options.AdditionalSpecialTokens,
            addPrefixSpace: false, Options.Lowercase, Options.ModelMaxLength, counts.Count);
    }

    /// <summary>"word" as ["w", "##o", "##r", "##d"] (by Unicode scalar).</summary>
    static string[] Spell(string word)
    {
        var symbols = new List<string>();
        foreach (Rune rune in word.EnumerateRunes()) symbols.Add(symbols.Count == 0 ? rune.ToString() : Prefix + rune);
        return [.. symbols];
    }
}
