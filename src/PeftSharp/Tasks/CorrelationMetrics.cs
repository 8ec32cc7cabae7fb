namespace PeftSharp.Tasks;

/// <summary>Correlations between predicted and true scores (regression tasks such as STS-B).</summary>
public static class CorrelationMetrics
{
    /// <summary>
    /// Pearson's r = Σ (x − x̄)(y − ȳ) / sqrt(Σ (x − x̄)² Σ (y − ȳ)²); NaN when either side is constant (as SciPy).
    /// </summary>
    public static double Pearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        Check(x, y);
        double meanX = x.Average(), meanY = y.Average();
        double covariance = 0, varianceX = 0, varianceY = 0;
        for (int i = 0; i < x.Count; i++)
        {
            double dx = x[i] - meanX, dy = y[i] - meanY;
            covariance += dx * dy;
            varianceX += dx * dx;
            varianceY += dy * dy;
        }
        double denominator = Math.Sqrt(varianceX * varianceY);
        return denominator == 0 ? double.NaN : Math.Clamp(covariance / denominator, -1, 1);
    }

    /// <summary>Spearman's rho: Pearson's r of the ranks, tied values taking the mean of their ranks.</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        Check(x, y);
        return Pearson(Ranks(x), Ranks(y));
    }

    /// <summary>1-based ranks; a group of equal values gets the average of the ranks it spans ("average" method).</summary>
    public static double[] Ranks(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            double rank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++) ranks[order[k]] = rank;
            start = end + 1;
        }
        return ranks;
    }

    static void Check(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count) throw new ArgumentException($"{x.Count} values against {y.Count}", nameof(y));
        if (x.Count < 2) throw new ArgumentException("a correlation needs at least two pairs", nameof(x));
        if (x.Concat(y).Any(double.IsNaN)) throw new ArgumentException("values must not be NaN", nameof(x));
    }
}
