using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PeftSharp.Bench.Harness;

/// <summary>Prints rows as a table and writes them, with the machine facts and the command, as JSON.</summary>
public static class Report
{
    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Table(IReadOnlyList<ResultRow> rows)
    {
        // The goal column appears only in tables that have a goal (the lora and train suites).
        bool goals = rows.Any(r => r.Goal is not null);
        var header = new[] { "workload", "metric", "median", "min..max", "n", "ratio", "ratio min..max", "ratio to" };
        var cells = rows.Select(r => new[]
        {
            r.Workload, $"{r.Metric} [{r.Unit}]", Format(r.Value.Median), $"{Format(r.Value.Min)}..{Format(r.Value.Max)}", r.Value.N.ToString(CultureInfo.InvariantCulture),
            r.Ratio is { } q ? Format(q.Median) : "", r.Ratio is { } s ? $"{Format(s.Min)}..{Format(s.Max)}" : "", r.RatioTo ?? "",
        }).ToList();
        if (goals)
        {
            header = header.Append("goal").ToArray();
            cells = cells.Select((c, i) => c.Append(GoalText(rows[i])).ToArray()).ToList();
        }
        var widths = header.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(c => c[i].Length))).ToArray();
        var text = new StringBuilder();
        void Line(string[] values) => text.AppendLine(string.Join(" | ", values.Select((v, i) => i is 2 or 4 or 5 ? v.PadLeft(widths[i]) : v.PadRight(widths[i]))).TrimEnd());
        Line(header);
        text.AppendLine(string.Join("-+-", widths.Select(w => new string('-', w))));
        foreach (var row in cells) Line(row);
        var notes = rows.Where(r => r.Note is not null).Select(r => $"  {r.Workload} / {r.Metric}: {r.Note}").Distinct().ToList();
        if (notes.Count > 0)
        {
            text.AppendLine("notes:");
            foreach (string note in notes) text.AppendLine(note);
        }
        return text.ToString();
    }

    /// <summary>"&gt;= 0.85: met", "&lt;= 0.7: MISSED", or empty without a goal.</summary>
    static string GoalText(ResultRow row) => row.Goal is null ? "" : $"{row.Goal}: {row.GoalMet switch { true => "met", false => "MISSED", null => "n/a" }}";

    /// <summary>Three significant digits, no exponent for ordinary magnitudes.</summary>
    public static string Format(double value)
    {
        if (double.IsNaN(value)) return "n/a";
        double magnitude = Math.Abs(value);
        if (magnitude >= 1000) return value.ToString("N0", CultureInfo.InvariantCulture);
        if (magnitude >= 100) return value.ToString("0", CultureInfo.InvariantCulture);
        if (magnitude >= 10) return value.ToString("0.0", CultureInfo.InvariantCulture);
        if (magnitude >= 0.01 || magnitude == 0) return value.ToString("0.00#", CultureInfo.InvariantCulture);
        return value.ToString("0.00e0", CultureInfo.InvariantCulture);
    }

    /// <summary>The JSON document of one suite's run (format in bench/results/README.md).</summary>
    public static object Document(string suite, string command, DateTimeOffset started, MachineInfo machine, BenchOptions options,
        IReadOnlyList<ResultRow> rows) =>
        new
        {
            Suite = suite,
            Started = started.ToString("O", CultureInfo.InvariantCulture),
            Finished = DateTimeOffset.Now.ToString("O", CultureInfo.InvariantCulture),
            Command = command,
            Machine = machine,
            LoadAverageAtEnd = MachineInfo.CurrentLoadAverage(),
            Options = new
            {
                options.Trials, options.Threads, options.Filter, options.Shape, options.MinSeconds, options.BudgetSeconds, options.PeakSize, options.PeakSizeBf16,
                options.CacheDirectory,
            },
            Rows = rows,
        };

    /// <summary>A document (or an array of documents) as indented JSON.</summary>
    public static string ToJson(object document) => JsonSerializer.Serialize(document, Json);

    public static void WriteJson(string path, object document)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, ToJson(document));
    }
}
