namespace PeftSharp.Tokenization;

/// <summary>
/// A token that is cut out of the input text as a whole before the model sees the rest (Hugging Face's
/// <c>AddedToken</c>): special tokens such as "[SEP]" or "&lt;|endoftext|&gt;" and tokens added after training.
/// </summary>
/// <param name="Content">The exact text that is matched.</param>
/// <param name="Id">The id the text maps to.</param>
public sealed record AddedToken(string Content, int Id)
{
    /// <summary>A special token: dropped by <c>Decode(..., skipSpecialTokens: true)</c>.</summary>
    public bool Special { get; init; }

    /// <summary>Also swallows the whitespace on its left.</summary>
    public bool LStrip { get; init; }

    /// <summary>Also swallows the whitespace on its right.</summary>
    public bool RStrip { get; init; }

    /// <summary>Matches only when not directly touching a word character.</summary>
    public bool SingleWord { get; init; }

    /// <summary>Matched against the normalized text (e.g. lower-cased) rather than the raw text.</summary>
    public bool Normalized { get; init; }

    /// <summary>
    /// Reads a Hugging Face added-token object ({"content", "single_word", "lstrip", "rstrip", "normalized",
    /// "special"}) as written in tokenizer.json's "added_tokens" and tokenizer_config.json's "added_tokens_decoder".
    /// </summary>
    internal static AddedToken FromJson(JsonField node, int id)
    {
        bool special = node.Bool("special", false);
        return new AddedToken(node.String("content"), id)
        {
            Special = special,
            LStrip = node.Bool("lstrip", false),
            RStrip = node.Bool("rstrip", false),
            SingleWord = node.Bool("single_word", false),
            // Hugging Face's default: special tokens match the raw text, other added tokens the normalized text.
            Normalized = node.Bool("normalized", !special),
        };
    }
}
