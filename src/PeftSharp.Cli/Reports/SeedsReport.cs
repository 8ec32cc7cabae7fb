using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using PeftSharp.Experiments;
using PeftSharp.IO;

namespace PeftSharp.Cli.Reports;

/// <summary>
/// <c>peft compare --seeds</c>: the comparison repeated per seed (each run's full report in <c>seed-&lt;S&gt;/</c>), and
/// the spread of every method's scores over the seeds in <c>seeds.md</c> and <c>seeds.json</c>.
/// </summary>
static class SeedsReport
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The folder of one seed's report inside the report directory.</summary>
    public static string SeedFolder(string report, long seed) => Path.Combine(report, $"seed-{seed.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>The metrics summarised: those the comparison table shows.</summary>
    public static IReadOnlyList<string> Metrics(IReadOnlyList<ComparisonResult> runs) => ComparisonTable.MetricNames(runs[0]);

    public static IReadOnlyList<string> Header(IReadOnlyList<ComparisonResult> runs) =>
    [
        "method", "% of model",
        .. Metrics(runs).SelectMany(m => new[] { $"{ComparisonTable.Label(m)} mean ± sd", "min .. max" }),
        "seeds",
    ];

    /// <summary>One row per method: its trainable share, then mean ± sd and range of each metric, and the seeds that finished.</summary>
    public static IEnumerable<IReadOnlyList<string>> Rows(IReadOnlyList<ComparisonResult> runs, IReadOnlyList<SeedSpread> spread)
    {
        var metrics = Metrics(runs);
        foreach (string method in runs[0].Options.Recipes.Select(r => r.Name))
        {
            var outcome = runs.Select(r => r.Methods.FirstOrDefault(m => m.Method == method)).FirstOrDefault(m => m is { TrainableParameters: > 0 });
            var row = new List<string> { method, outcome is null ? "-" : ComparisonTable.Percent(outcome.TrainablePercent) };
            var seeds = new List<long>();
            foreach (string metric in metrics)
            {
                var s = spread.FirstOrDefault(x => x.Method == method && x.Metric == metric);
                row.Add(s is null ? "-" : $"{Numbers.Fixed(s.Mean, 4)} ± {Numbers.Fixed(s.StandardDeviation, 4)}");
                row.Add(s is null ? "-" : $"{Numbers.Fixed(s.Min, 4)} .. {Numbers.Fixed(s.Max, 4)}");
                if (s is not null && seeds.Count == 0) seeds.AddRange(s.Seeds);
            }
            row.Add(seeds.Count == 0 ? "none finished" : string.Join(",", seeds));
            yield return row;
        }
    }

    public static JsonObject Json(IReadOnlyList<ComparisonResult> runs, IReadOnlyList<SeedSpread> spread, string report, bool interrupted) => new()
    {
        ["seeds"] = new JsonArray(runs.Select(r => (JsonNode?)r.Options.Seed).ToArray()),
        ["spread"] = new JsonArray(spread.Select(s => (JsonNode?)new JsonObject
        {
            ["method"] = s.Method,
            ["metric"] = s.Metric,
            ["seeds"] = new JsonArray(s.Seeds.Select(x => (JsonNode?)x).ToArray()),
            ["mean"] = ReportFormat.Round(s.Mean, 6),
            ["sd"] = ReportFormat.Round(s.StandardDeviation, 6),
            ["min"] = ReportFormat.Round(s.Min, 6),
            ["max"] = ReportFormat.Round(s.Max, 6),
        }).ToArray()),
        ["runs"] = new JsonArray(runs.Select(r => (JsonNode?)ComparisonJson.From(r, SeedFolder(report, r.Options.Seed))).ToArray()),
        ["interrupted"] = interrupted,
        ["report"] = report,
    };

    /// <summary>Writes seeds.json and seeds.md into <paramref name="report"/> (each seed's own report is already written).</summary>
    public static void Write(string report, IReadOnlyList<ComparisonResult> runs, IReadOnlyList<SeedSpread> spread, string commandLine, bool interrupted)
    {
        AtomicFile.WriteText(Path.Combine(report, "seeds.json"), Json(runs, spread, report, interrupted).ToJsonString(Indented));
        var first = runs[0];
        var text = new StringBuilder();
        text.AppendLine($"# peft compare over {runs.Count} seeds: {first.DataName} on {first.Options.Model}");
        text.AppendLine();
        text.AppendLine($"- command: `{commandLine}`");
        text.AppendLine($"- seeds: {string.Join(", ", runs.Select(r => r.Options.Seed))}{(interrupted ? " (interrupted: later seeds or methods missing)" : "")}; duration {Numbers.Fixed(runs.Sum(r => r.Duration.TotalMinutes), 1)} min");
        text.AppendLine($"- each seed draws the head, the adapters' initialisation, the batch order and dropout anew; the budget is the same: {first.Options.Steps} steps × {first.Options.BatchSize} examples of ≤ {first.InputLength} tokens");
        text.AppendLine($"- scored on {Numbers.Count(first.ScoredExamples)} {first.ScoredSplit} examples; sd is the sample standard deviation (n − 1)");
        text.AppendLine();
        ComparisonReport.AppendTable(text, Header(runs), Rows(runs, spread));
        text.AppendLine();
        text.AppendLine("Each seed's full table, plots and adapters: " + string.Join(", ", runs.Select(r => $"[seed {r.Options.Seed}](seed-{r.Options.Seed}/summary.md)")) +
            (first.Options.Latency ? "; latency was measured in the first seed's run only (it does not depend on the seed)." : "."));
        AtomicFile.WriteText(Path.Combine(report, "seeds.md"), text.ToString());
    }
}
