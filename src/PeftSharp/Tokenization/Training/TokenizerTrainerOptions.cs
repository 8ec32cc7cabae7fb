namespace PeftSharp.Tokenization.Training;

/// <summary>What every tokenizer trainer takes: the vocabulary size, how often a pair must occur to be merged, and the longest input.</summary>
public abstract record TokenizerTrainerOptions
{
    /// <summary>Size of the vocabulary, special tokens and the initial alphabet included.</summary>
    public int VocabSize
    {
        get;
        init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(VocabSize), value, "must be positive");
    } = 8192;

    /// <summary>A pair occurring fewer times than this is never merged (training stops early).</summary>
    public long MinFrequency
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MinFrequency), value, "must be at least 1");
    } = 2;

    /// <summary>model_max_length written to tokenizer_config.json, or null for none.</summary>
    public int? ModelMaxLength
    {
        get;
        init => field = value is null or > 0 ? value : throw new ArgumentOutOfRangeException(nameof(ModelMaxLength), value, "must be positive");
    }
}

/// <summary>Options of <see cref="ByteLevelBpeTrainer"/>: GPT-2's layout by default.</summary>
public sealed record ByteLevelBpeTrainerOptions : TokenizerTrainerOptions
{
    /// <summary>Beginning, end and unknown token, as GPT-2's single "&lt;|endoftext|&gt;" (id 0).</summary>
    public string EndOfTextToken
    {
        get;
        init => field = !string.IsNullOrWhiteSpace(value) ? value : throw new ArgumentException("must not be empty", nameof(EndOfTextToken));
    } = "<|endoftext|>";

    /// <summary>A padding token (id 1), or null for none (then pad with EOS, as GPT-2 users do).</summary>
    public string? PadToken { get; init; } = "<|pad|>";

    /// <summary>Further special tokens, given the ids after EOS and PAD.</summary>
    public IReadOnlyList<string> AdditionalSpecialTokens { get; init; } = [];

    /// <summary>Put a space before the first word of a text (Hugging Face's add_prefix_space), so it tokenizes like the others.</summary>
    public bool AddPrefixSpace { get; init; }
}

/// <summary>Options of <see cref="WordPieceTrainer"/>: BERT's layout by default.</summary>
public sealed record WordPieceTrainerOptions : TokenizerTrainerOptions
{
    /// <summary>Lower-case the text (and strip accents), as bert-base-uncased.</summary>
    public bool Lowercase { get; init; } = true;

    /// <summary>Keep only the most frequent characters in the alphabet; words with others become [UNK].</summary>
    public int LimitAlphabet
    {
        get;
        init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(LimitAlphabet), value, "must be positive");
    } = 1000;

    /// <summary>Further special tokens, given the ids after [PAD] [UNK] [CLS] [SEP] [MASK].</summary>
    public IReadOnlyList<string> AdditionalSpecialTokens { get; init; } = [];
}
