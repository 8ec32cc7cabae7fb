using System.Text.Json.Nodes;
using Spectre.Console;

namespace PeftSharp.Cli.Reports;

/// <summary>Formatting shared by the reports and tables of train, eval, compare and madx.</summary>
static class ReportFormat
{
    /// <summary>A JSON number rounded to <paramref name="digits"/> decimals; null for NaN or infinity (JSON has neither).</summary>
    public static JsonNode? Round(double value, int digits) => double.IsFinite(value) ? JsonValue.Create(Math.Round(value, digits)) : null;

    /// <summary>Metrics by name, each rounded to 6 decimals (null where not finite).</summary>
    public static JsonObject Metrics(IReadOnlyDictionary<string, double> metrics) =>
        new(metrics.Select(p => KeyValuePair.Create(p.Key, Round(p.Value, 6))));

    /// <summary>A terminal table of text cells: the first column left-aligned, the others (numbers) right-aligned.</summary>
    public static Table Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows, string? title = null)
    {
        var table = new Table { Border = TableBorder.Simple };
        if (title is not null) table.Title = new TableTitle(Markup.Escape(title));
        foreach (string column in header) table.AddColumn(new TableColumn(Markup.Escape(column)).RightAligned());
        table.Columns[0].LeftAligned();
        foreach (var row in rows) table.AddRow(row.Select(cell => (Spectre.Console.Rendering.IRenderable)new Text(cell)).ToArray());
        return table;
    }
}
