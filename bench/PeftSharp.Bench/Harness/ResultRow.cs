namespace PeftSharp.Bench.Harness;

/// <summary>
/// One figure of one workload: its value over the trials and, where it has one, its ratio to a reference measured
/// interleaved in the same process (a matmul peak, a plain file read, the base model).
/// </summary>
public sealed record ResultRow
{
    public required string Suite { get; init; }

    /// <summary>What ran, e.g. "llama-1b bf16 prefill 1x128".</summary>
    public required string Workload { get; init; }

    /// <summary>What is measured, e.g. "tokens/s".</summary>
    public required string Metric { get; init; }

    public required string Unit { get; init; }

    /// <summary>The figure over the trials (median, min, max).</summary>
    public required Summary Value { get; init; }

    /// <summary>Per-trial ratio to the reference named by <see cref="RatioTo"/> (median, min, max); null if none.</summary>
    public Summary? Ratio { get; init; }

    /// <summary>The reference of <see cref="Ratio"/>, e.g. "fp32 peak (2048^3, x.W^T)".</summary>
    public string? RatioTo { get; init; }

    public string? Note { get; init; }

    /// <summary>The target the ratio's median should meet, where an issue set one (e.g. at least 0.85); null if none.</summary>
    public Goal? Goal { get; init; }

    /// <summary>Whether the ratio's median meets <see cref="Goal"/>; null without a goal or a ratio.</summary>
    public bool? GoalMet => Goal is null || Ratio is null || double.IsNaN(Ratio.Median) ? null : Goal.IsMetBy(Ratio.Median);
}

/// <summary>A target for a ratio: at least (">=") or at most ("<=") <see cref="Target"/>.</summary>
public sealed record Goal(string Comparison, double Target)
{
    public static Goal AtLeast(double target) => new(">=", target);
    public static Goal AtMost(double target) => new("<=", target);

    public bool IsMetBy(double ratio) => Comparison == ">=" ? ratio >= Target : ratio <= Target;

    public override string ToString() => $"{Comparison} {Target.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)}";
}
