namespace PeftSharp.Tasks;

/// <summary>Metrics of language models.</summary>
public static class LanguageModelMetrics
{
    /// <summary>Perplexity = exp(mean cross-entropy per predicted token, in nats).</summary>
    public static double Perplexity(double meanTokenLoss) =>
        double.IsNaN(meanTokenLoss) ? double.NaN : Math.Exp(meanTokenLoss);

    /// <summary>Perplexity from a summed token loss and the number of tokens it covers: exp(sum / tokens).</summary>
    public static double Perplexity(double totalLoss, long tokens) =>
        tokens > 0 ? Perplexity(totalLoss / tokens) : throw new ArgumentOutOfRangeException(nameof(tokens), tokens, "must be positive");
}
