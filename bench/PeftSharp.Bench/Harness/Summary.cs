namespace PeftSharp.Bench.Harness;

/// <summary>Median and range of repeated measurements (the samples are kept for the JSON file).</summary>
public sealed record Summary(double Median, double Min, double Max, int N, IReadOnlyList<double> Samples)
{
    public static Summary Of(IEnumerable<double> values)
    {
        var samples = values.Where(v => !double.IsNaN(v)).ToArray();
        if (samples.Length == 0) return new Summary(double.NaN, double.NaN, double.NaN, 0, samples);
        var sorted = samples.OrderBy(v => v).ToArray();
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return new Summary(median, sorted[0], sorted[^1], n, samples);
    }

    public static Summary One(double value) => Of(new[] { value });

    /// <summary>(max - min) / median, the relative spread.</summary>
    public double RelativeSpread => N > 1 && Median != 0 ? (Max - Min) / Math.Abs(Median) : 0;
}
