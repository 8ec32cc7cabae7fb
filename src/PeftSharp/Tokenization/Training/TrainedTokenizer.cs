namespace PeftSharp.Tokenization.Training;

/// <summary>
/// A tokenizer made by <see cref="ByteLevelBpeTrainer"/> or <see cref="WordPieceTrainer"/>: the vocabulary (special
/// tokens first), the merges in rank order, and the settings needed to write Hugging Face's files with
/// <see cref="Save"/> (which <see cref="PretrainedTokenizer.FromDirectory"/> loads back).
/// </summary>
public sealed class TrainedTokenizer
{
    internal TrainedTokenizer(TokenizerKind kind, IReadOnlyList<string> vocabulary, IReadOnlyList<(string Left, string Right)> merges,
        IReadOnlyDictionary<string, string> specialTokens, IReadOnlyList<string> additionalSpecialTokens, bool addPrefixSpace, bool lowercase,
        int? modelMaxLength, long distinctWords)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string token in vocabulary)
            if (!seen.Add(token)) throw new InvalidOperationException($"the trained vocabulary holds '{token}' twice (a merge rebuilt a special token?)");
        Kind = kind;
        Vocabulary = vocabulary;
        Merges = merges;
        SpecialTokens = specialTokens;
        AdditionalSpecialTokens = additionalSpecialTokens;
        AddPrefixSpace = addPrefixSpace;
        Lowercase = lowercase;
        ModelMaxLength = modelMaxLength;
        DistinctWords = distinctWords;
    }

    /// <summary><see cref="TokenizerKind.ByteLevelBpe"/> or <see cref="TokenizerKind.WordPiece"/>.</summary>
    public TokenizerKind Kind { get; }

    /// <summary>Tokens by id: special tokens, the initial alphabet, then one token per merge.</summary>
    public IReadOnlyList<string> Vocabulary { get; }

    /// <summary>The merges in the order they were made (for WordPiece, how the vocabulary was built; not saved).</summary>
    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    /// <summary>Special tokens by role ("bos", "eos", "unk", "pad", "cls", "sep", "mask").</summary>
    public IReadOnlyDictionary<string, string> SpecialTokens { get; }

    /// <summary>Special tokens without a role.</summary>
    public IReadOnlyList<string> AdditionalSpecialTokens { get; }

    /// <summary>Byte-level BPE: a space is put before the first word (add_prefix_space).</summary>
    public bool AddPrefixSpace { get; }

    /// <summary>WordPiece: the text is lower-cased and its accents stripped.</summary>
    public bool Lowercase { get; }

    /// <summary>model_max_length, or null.</summary>
    public int? ModelMaxLength { get; }

    /// <summary>Distinct pre-tokenized words the training counted.</summary>
    public long DistinctWords { get; }

    /// <summary>
    /// Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json, plus vocab.json and merges.txt
    /// (byte-level BPE) or vocab.txt (WordPiece), each through a temporary file and a rename.
    /// </summary>
    public void Save(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        TokenizerFileWriter.Write(this, directory);
    }
}
