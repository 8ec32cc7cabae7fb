namespace PeftSharp.Tuners.Lora;

/// <summary>How <see cref="LoraCombination"/> combines LoRA adapters (PEFT's add_weighted_adapter arguments).</summary>
public sealed record LoraCombinationOptions
{
    /// <summary>
    /// PEFT's combination_type: "svd" (default), "linear", "cat", "ties", "ties_svd", "dare_linear", "dare_ties",
    /// "dare_linear_svd", "dare_ties_svd", "magnitude_prune", "magnitude_prune_svd".
    /// </summary>
    public string Combination { get; init; } = "svd";

    /// <summary>Rank of an "*svd" result (default: the largest rank of the adapters).</summary>
    public int? SvdRank { get; init; }

    /// <summary>Quantile in (0, 1] at which the "*svd" factors are clamped (PEFT's svd_clamp); null: no clamping.</summary>
    public double? SvdClamp { get; init; }

    /// <summary>Fraction of values kept by the pruning combinations (ties, dare_*, magnitude_prune); required for them.</summary>
    public double? Density { get; init; }

    /// <summary>"total" or "frequency": how TIES elects the sign of each value (ties and dare_ties variants).</summary>
    public string MajoritySignMethod { get; init; } = "total";

    /// <summary>Seed of DARE's random pruning, so that a combination can be repeated; null uses the global generator.</summary>
    public long? Seed { get; init; }

    /// <summary>Every combination type PEFT knows.</summary>
    public static readonly IReadOnlyList<string> Combinations = new[]
    {
        "svd", "linear", "cat", "ties", "ties_svd", "dare_linear", "dare_ties", "dare_linear_svd", "dare_ties_svd", "magnitude_prune", "magnitude_prune_svd",
    };

    /// <summary>The merge method of an "*svd" combination, applied to the adapters' deltas ("svd" alone: "linear").</summary>
    public static string SvdBase(string combination) => combination == "svd" ? "linear" : combination[..^"_svd".Length];

    /// <summary>Whether a combination decomposes the merged deltas by SVD ("svd" and the "*_svd" ones).</summary>
    public static bool IsSvd(string combination) => combination == "svd" || combination.EndsWith("_svd", StringComparison.Ordinal);

    /// <summary>Checks the options; throws <see cref="ArgumentException"/> naming the option at fault.</summary>
    public void Validate()
    {
        if (!Combinations.Contains(Combination))
            throw new ArgumentException($"unknown combination '{Combination}' (known: {string.Join(", ", Combinations)})", nameof(Combination));
        string method = IsSvd(Combination) ? SvdBase(Combination) : Combination;
        if (TaskMerging.Prunes(method) && Density is null)
            throw new ArgumentException($"combination '{Combination}' prunes and needs a density in [0, 1]", nameof(Density));
        if (Density is { } density && (density < 0 || double.IsNaN(density)))
            throw new ArgumentException($"density must be at least 0, got {density}", nameof(Density));
        if (MajoritySignMethod is not ("total" or "frequency"))
            throw new ArgumentException($"majority sign method must be 'total' or 'frequency', got '{MajoritySignMethod}'", nameof(MajoritySignMethod));
        if (SvdRank is <= 0) throw new ArgumentException($"svd rank must be positive, got {SvdRank}", nameof(SvdRank));
        if (SvdClamp is { } clamp && !(clamp > 0 && clamp <= 1))
            throw new ArgumentException($"svd clamp is a quantile in (0, 1], got {clamp}", nameof(SvdClamp));
    }
}
