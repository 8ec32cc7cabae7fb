namespace PeftSharp.Experiments;

/// <summary>
/// One method's metric over the runs of a comparison repeated with different seeds (<c>peft compare --seeds</c>): how
/// far apart two methods must be before the difference means more than the draw of head, adapter init, batch order
/// and dropout.
/// </summary>
/// <param name="Method">Recipe name.</param>
/// <param name="Metric">Metric name ("accuracy").</param>
/// <param name="Seeds">Seeds whose run produced the metric (a failed run is left out).</param>
/// <param name="Mean">Mean over those runs.</param>
/// <param name="StandardDeviation">Sample standard deviation (n − 1); 0 for a single run.</param>
/// <param name="Min">Lowest value.</param>
/// <param name="Max">Highest value.</param>
public sealed record SeedSpread(string Method, string Metric, IReadOnlyList<long> Seeds, double Mean, double StandardDeviation, double Min, double Max)
{
    /// <summary>
    /// The spread of each method's <paramref name="metrics"/> over <paramref name="runs"/> (one comparison per seed, the
    /// same methods in each), in the order of the recipes, metric by metric; a method with no finished run has no entry.
    /// </summary>
    /// <exception cref="ArgumentException">No runs, or runs that do not share one method list.</exception>
    public static IReadOnlyList<SeedSpread> Of(IReadOnlyList<ComparisonResult> runs, IReadOnlyList<string> metrics)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(metrics);
        if (runs.Count == 0) throw new ArgumentException("no comparison runs to summarise", nameof(runs));
        var methods = runs[0].Options.Recipes.Select(r => r.Name).ToList();
        foreach (var run in runs.Skip(1))
            if (!run.Options.Recipes.Select(r => r.Name).SequenceEqual(methods))
                throw new ArgumentException($"the run with seed {run.Options.Seed} compared other methods ({string.Join(",", run.Options.Recipes.Select(r => r.Name))}) than the first ({string.Join(",", methods)})", nameof(runs));

        var spreads = new List<SeedSpread>();
        foreach (string method in methods)
            foreach (string metric in metrics)
            {
                // (seed, value) of every run in which this method finished and reported the metric; an interrupted
                // run may lack the later methods.
                var values = runs
                    .Select(run => (run.Options.Seed, Outcome: run.Methods.FirstOrDefault(m => m.Method == method)))
                    .Where(r => r.Outcome is { Error: null, Interrupted: false } && r.Outcome.Metrics.ContainsKey(metric))
                    .Select(r => (r.Seed, Value: r.Outcome!.Metrics[metric]))
                    .ToList();
                if (values.Count == 0) continue;
                double mean = values.Average(v => v.Value);
                double variance = values.Count > 1 ? values.Sum(v => (v.Value - mean) * (v.Value - mean)) / (values.Count - 1) : 0;
                spreads.Add(new SeedSpread(method, metric, values.Select(v => v.Seed).ToList(), mean, Math.Sqrt(variance),
                    values.Min(v => v.Value), values.Max(v => v.Value)));
            }
        return spreads;
    }
}
