using System.Globalization;
using PeftSharp.Experiments;

namespace PeftSharp.Cli.Reports;

/// <summary>
/// The comparison as rows of text, one per method, shared by the terminal table and summary.md: trainable parameters
/// and their share, adapter file size and its ratio to the model file, the positions left for the input, the two leading test metrics, training time,
/// peak memory, and latency against the base model (unmerged and merged, batch 1 and the large batch).
/// </summary>
static class ComparisonTable
{
    /// <summary>Column headers.</summary>
    public static IReadOnlyList<string> Header(ComparisonResult result)
    {
        var header = new List<string> { "method", "trainable params", "% of model", "adapter file", "vs model file", "context left" };
        header.AddRange(MetricNames(result).Select(Label));
        header.AddRange(["train time", "peak memory"]);
        if (result.Options.Latency)
        {
            int large = result.Options.LatencyBatch;
            header.AddRange(["latency b1 unmerged", $"b{large} unmerged", "b1 merged", $"b{large} merged"]);
        }
        if (result.ForgettingBaseLoss is not null) header.Add($"{result.ForgettingObjective} loss after (Δ)");
        return header;
    }

    /// <summary>One row per method.</summary>
    public static IEnumerable<IReadOnlyList<string>> Rows(ComparisonResult result)
    {
        var metrics = MetricNames(result);
        foreach (var m in result.Methods)
        {
            var row = new List<string>
            {
                m.Method,
                m.Error is null || m.TrainableParameters > 0 ? Numbers.Count(m.TrainableParameters) : "-",
                m.TrainableParameters > 0 ? Percent(m.TrainablePercent) : "-",
                m.AdapterBytes is long bytes ? Bytes(bytes) : "-",
                m.AdapterRatio is double ratio ? Ratio(ratio) : "-",
                m.ContextLeft > 0 ? Numbers.Count(m.ContextLeft) : "-",
            };
            row.AddRange(metrics.Select(name => m.Metrics.TryGetValue(name, out double v) ? Numbers.Fixed(v, 4) : "-"));
            row.Add(m.TrainSeconds > 0 ? $"{Numbers.Fixed(m.TrainSeconds, 1)} s" : "-");
            row.Add(m.PeakMemoryBytes is long peak ? $"+{Bytes(peak)}" : "-");
            if (result.Options.Latency)
            {
                row.Add(Latency(m.Unmerged, 0));
                row.Add(Latency(m.Unmerged, 1));
                row.Add(m.Unmerged.Count > 0 && m.Merged.Count == 0 ? "n/a" : Latency(m.Merged, 0));
                row.Add(m.Unmerged.Count > 0 && m.Merged.Count == 0 ? "n/a" : Latency(m.Merged, 1));
            }
            if (result.ForgettingBaseLoss is double before)
                row.Add(m.ForgettingLoss is double after ? $"{Numbers.Fixed(after, 4)} ({Signed(after - before)})" : "-");
            if (m.Error is not null) row[0] += " (failed)";
            yield return row;
        }
    }

    /// <summary>Columns of the low-data table: the method, then one per training-set size.</summary>
    public static IReadOnlyList<string> LowDataHeader(ComparisonResult result) =>
        ["method", .. LowDataSizes(result).Select(s => $"{Numbers.Count(s)} examples")];

    /// <summary>One row per method: its primary metric at each training-set size.</summary>
    public static IEnumerable<IReadOnlyList<string>> LowDataRows(ComparisonResult result)
    {
        var sizes = LowDataSizes(result);
        return result.LowData.GroupBy(l => l.Method).Select(g => (IReadOnlyList<string>)[g.Key, .. sizes.Select(s =>
            g.FirstOrDefault(l => l.TrainExamples == s) is { } o && o.Metrics.TryGetValue(result.PrimaryMetric, out double v) ? Numbers.Fixed(v, 4) : "-")]);
    }

    static List<int> LowDataSizes(ComparisonResult result) => result.LowData.Select(l => l.TrainExamples).Distinct().Order().ToList();

    /// <summary>The metrics shown: accuracy and macro-F1 for classification, else the evaluator's first two (primary first).</summary>
    public static IReadOnlyList<string> MetricNames(ComparisonResult result)
    {
        var first = result.Methods.FirstOrDefault(m => m.Metrics.Count > 0)?.Metrics;
        if (first is null) return [result.PrimaryMetric];
        var names = new List<string> { result.PrimaryMetric };
        foreach (string candidate in new[] { "macro_f1", "perplexity", "loss" })
            if (first.ContainsKey(candidate) && !names.Contains(candidate) && names.Count < 2) names.Add(candidate);
        return names;
    }

    /// <summary>"macro_f1" as "macro-F1", "token_accuracy" as "token accuracy".</summary>
    public static string Label(string metric) => metric switch
    {
        "macro_f1" => "macro-F1",
        _ => metric.Replace('_', ' '),
    };

    public static string Percent(double percent) =>
        percent >= 1 ? $"{Numbers.Fixed(percent, 1)}%" : percent >= 0.01 ? $"{Numbers.Fixed(percent, 2)}%" : $"{Numbers.Fixed(percent, 4)}%";

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1024 * 1024 => $"{Numbers.Fixed(bytes / 1024.0 / 1024.0, 1)} MB",
        >= 1024 => $"{Numbers.Fixed(bytes / 1024.0, 1)} KB",
        _ => $"{bytes} B",
    };

    public static string Ratio(double ratio) => ratio >= 0.1 ? $"{Numbers.Fixed(ratio, 2)}×" : $"{Numbers.Fixed(ratio, 4)}×";

    static string Latency(IReadOnlyList<LatencyMeasurement> list, int index) => index < list.Count ? $"{Numbers.Fixed(list[index].Ratio, 2)}×" : "-";

    static string Signed(double value) => value.ToString("+0.0000;-0.0000;0.0000", CultureInfo.InvariantCulture);
}
