using System.Globalization;
using System.Text.Json;

namespace PeftSharp.Data;

/// <summary>One record of a JSONL, CSV or TSV file, read by column name.</summary>
abstract class DataRow
{
    protected DataRow(SourceLocation source) => Source = source;

    public SourceLocation Source { get; }

    /// <summary>Whether the record has the column.</summary>
    public abstract bool Has(string column);

    /// <summary>A non-empty text field.</summary>
    /// <exception cref="DataFormatException">Missing, not a string, or empty.</exception>
    public string Text(string column)
    {
        string value = Scalar(column, allowNumber: false);
        return string.IsNullOrWhiteSpace(value) ? throw Source.Error(column, "the text is empty") : value;
    }

    /// <summary>A label: a non-empty string or a number (kept as written).</summary>
    public string Label(string column)
    {
        string value = Scalar(column, allowNumber: true).Trim();
        return value.Length == 0 ? throw Source.Error(column, "the label is empty") : value;
    }

    /// <summary>A list of non-empty strings (numbers allowed when <paramref name="allowNumbers"/>).</summary>
    public abstract IReadOnlyList<string> List(string column, bool allowNumbers);

    protected abstract string Scalar(string column, bool allowNumber);

    protected DataFormatException Missing(string column) => Source.Error(column, "missing column");
}

/// <summary>A JSONL record: one JSON object.</summary>
sealed class JsonRow(JsonElement element, SourceLocation source) : DataRow(source)
{
    public override bool Has(string column) => element.TryGetProperty(column, out var value) && value.ValueKind != JsonValueKind.Null;

    protected override string Scalar(string column, bool allowNumber)
    {
        if (!Has(column)) throw Missing(column);
        var value = element.GetProperty(column);
        return Describe(value, allowNumber) ?? throw Source.Error(column, $"must be a string{(allowNumber ? " or a number" : "")}, found {Kind(value)}");
    }

    public override IReadOnlyList<string> List(string column, bool allowNumbers)
    {
        if (!Has(column)) throw Missing(column);
        var value = element.GetProperty(column);
        if (value.ValueKind != JsonValueKind.Array) throw Source.Error(column, $"must be a list, found {Kind(value)}");
        var items = new List<string>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            string text = Describe(item, allowNumbers)
                ?? throw Source.Error($"{column}[{items.Count}]", $"must be a string{(allowNumbers ? " or a number" : "")}, found {Kind(item)}");
            if (string.IsNullOrWhiteSpace(text)) throw Source.Error($"{column}[{items.Count}]", "is empty");
            items.Add(text);
        }
        return items;
    }

    static string? Describe(JsonElement value, bool allowNumber) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number when allowNumber => value.GetRawText(),
        _ => null,
    };

    static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => value.ValueKind.ToString().ToLowerInvariant(),
    };
}

/// <summary>A CSV/TSV row: fields by header position.</summary>
sealed class TableRow(IReadOnlyDictionary<string, int> header, string[] fields, SourceLocation source) : DataRow(source)
{
    public override bool Has(string column) => header.ContainsKey(column);

    protected override string Scalar(string column, bool allowNumber) =>
        header.TryGetValue(column, out int index) ? fields[index] : throw Missing(column);

    public override IReadOnlyList<string> List(string column, bool allowNumbers) =>
        throw Source.Error(column, "lists of tokens need a JSONL or CoNLL file");

    /// <summary>Header names to positions: the header row's names, or "0", "1", ... without one.</summary>
    public static IReadOnlyDictionary<string, int> Header(IReadOnlyList<string> names) =>
        names.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);

    public static IReadOnlyDictionary<string, int> Positional(int count) =>
        Enumerable.Range(0, count).ToDictionary(i => i.ToString(CultureInfo.InvariantCulture), i => i, StringComparer.Ordinal);
}
