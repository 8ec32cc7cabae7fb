namespace PeftSharp.Tasks;

/// <summary>BERT's masking: which share of tokens is predicted, and what the input shows at those positions.</summary>
public sealed record MaskingOptions
{
    /// <summary>Share of (non-special, non-padding) tokens chosen for prediction.</summary>
    public double Probability
    {
        get;
        init => field = value is > 0 and < 1 ? value : throw new ArgumentOutOfRangeException(nameof(Probability), value, "must be between 0 and 1 (exclusive)");
    } = 0.15;

    /// <summary>Of the chosen tokens, the share replaced by the mask token.</summary>
    public double MaskFraction
    {
        get;
        init => field = value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaskFraction), value, "must be between 0 and 1");
    } = 0.8;

    /// <summary>Of the chosen tokens, the share replaced by a random token; the rest stay unchanged.</summary>
    public double RandomFraction
    {
        get;
        init => field = value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(RandomFraction), value, "must be between 0 and 1");
    } = 0.1;

    /// <summary>BERT's 15% with 80% [MASK], 10% random, 10% unchanged.</summary>
    public static MaskingOptions Default { get; } = new();
}
