using System.Globalization;
using System.Text.Json;
using CsvHelper;
using CsvHelper.Configuration;

namespace PeftSharp.Data;

/// <summary>Reads the records of a JSONL, CSV or TSV file as <see cref="DataRow"/>s, naming file and line on bad data.</summary>
static class DataRowReader
{
    public static IEnumerable<DataRow> Read(string path, DataFileFormat format, bool hasHeader) => format switch
    {
        DataFileFormat.Jsonl => ReadJsonl(path),
        DataFileFormat.Csv => ReadTable(path, ',', hasHeader),
        DataFileFormat.Tsv => ReadTable(path, '\t', hasHeader),
        _ => throw new ArgumentException($"{format} files do not hold column records", nameof(format)),
    };

    static IEnumerable<DataRow> ReadJsonl(string path)
    {
        int line = 0;
        foreach (string text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            JsonElement element;
            try
            {
                using var document = JsonDocument.Parse(text);
                element = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new DataFormatException(path, line, null, $"malformed JSON ({e.Message})", e);
            }
            if (element.ValueKind != JsonValueKind.Object)
                throw new DataFormatException(path, line, null, $"each line must be a JSON object, found {element.ValueKind.ToString().ToLowerInvariant()}");
            yield return new JsonRow(element, new SourceLocation(path, line));
        }
    }

    /// <summary>
    /// CSV with RFC 4180 quoting, or TSV without quoting (GLUE's files hold unbalanced quotes that are text).
    /// Every row must have as many fields as the header (or, without a header, as the first row).
    /// </summary>
    static IEnumerable<DataRow> ReadTable(string path, char delimiter, bool hasHeader)
    {
        int lastLine = 0;
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            Delimiter = delimiter.ToString(),
            HasHeaderRecord = hasHeader,
            Mode = delimiter == '\t' ? CsvMode.NoEscape : CsvMode.RFC4180,
            IgnoreBlankLines = true,
            BadDataFound = args => throw new DataFormatException(path, lastLine + 1, null, $"malformed quoting in \"{Shorten(args.RawRecord)}\""),
        };
        using var reader = new StreamReader(path);
        using var parser = new CsvParser(reader, config);
        IReadOnlyDictionary<string, int>? columns = null;
        int width = 0;
        while (true)
        {
            bool more;
            try
            {
                more = parser.Read();
            }
            catch (CsvHelperException e)
            {
                throw new DataFormatException(path, lastLine + 1, null, $"malformed row ({e.Message.Split('\n')[0]})", e);
            }
            if (!more) break;
            string[] fields = parser.Record ?? [];
            // RawRow counts physical lines read so far; a record starts on the first non-blank line after the last one.
            int line = StartLine(parser.RawRecord, parser.RawRow);
            lastLine = parser.RawRow;
            if (columns is null)
            {
                width = fields.Length;
                if (hasHeader)
                {
                    CheckHeader(path, line, fields);
                    columns = TableRow.Header(fields);
                    continue;
                }
                columns = TableRow.Positional(width);
            }
            if (fields.Length != width)
                throw new DataFormatException(path, line, null, $"{fields.Length} columns where the {(hasHeader ? "header has" : "first row has")} {width}");
            yield return new TableRow(columns, fields, new SourceLocation(path, line));
        }
    }

    static int StartLine(string rawRecord, int rawRow)
    {
        int newlines = 0;
        string trimmed = rawRecord.TrimEnd('\r', '\n');
        foreach (char c in trimmed) if (c == '\n') newlines++;
        return rawRow - newlines;
    }

    static void CheckHeader(string path, int line, string[] names)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++)
        {
            if (names[i].Length == 0) throw new DataFormatException(path, line, null, $"header column {i + 1} has no name");
            if (!seen.Add(names[i])) throw new DataFormatException(path, line, names[i], "the header names this column twice");
        }
    }

    static string Shorten(string text) => text.Length <= 60 ? text.TrimEnd('\r', '\n') : text[..57] + "...";
}
