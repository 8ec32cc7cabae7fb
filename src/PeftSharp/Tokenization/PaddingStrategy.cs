namespace PeftSharp.Tokenization;

/// <summary>How <see cref="PretrainedTokenizer.EncodeBatch"/> pads rows to a common length (Hugging Face's <c>padding</c>).</summary>
public enum PaddingStrategy
{
    /// <summary>No padding: every row must already have the same length.</summary>
    None,

    /// <summary>Pad to the longest row of the batch.</summary>
    Longest,

    /// <summary>Pad to the requested maximum length (or the model's maximum).</summary>
    MaxLength,
}
