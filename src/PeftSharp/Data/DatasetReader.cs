namespace PeftSharp.Data;

/// <summary>
/// Reads examples for each kind of task from JSONL, CSV, TSV, CoNLL or plain-text files. Every problem with a file
/// is a <see cref="DataFormatException"/> naming the file, the line and the column.
/// </summary>
public static class DatasetReader
{
    /// <summary>
    /// Classification examples: columns <see cref="ColumnMapping.Text"/>, optionally <see cref="ColumnMapping.TextPair"/>
    /// (a pair task when the header, or the first JSON record, has it) and <see cref="ColumnMapping.Label"/>.
    /// </summary>
    /// <exception cref="DataFormatException">Empty file, malformed line, missing column, wrong column count, empty text or label.</exception>
    public static IReadOnlyList<TextClassificationExample> ReadTextClassification(string path, DataReadOptions? options = null)
    {
        options ??= DataReadOptions.Default;
        var format = ResolveFormat(path, options.Format, DataFileFormat.Jsonl, DataFileFormat.Csv, DataFileFormat.Tsv);
        var columns = options.Columns;
        var examples = new List<TextClassificationExample>();
        bool? pair = null;
        foreach (var row in DataRowReader.Read(path, format, options.HasHeader))
        {
            pair ??= row.Has(columns.TextPair);
            examples.Add(new TextClassificationExample(row.Text(columns.Text), pair.Value ? row.Text(columns.TextPair) : null,
                row.Label(columns.Label), row.Source));
        }
        return NotEmpty(path, examples);
    }

    /// <summary>
    /// Token classification examples: from JSONL, lists <see cref="ColumnMapping.Tokens"/> and
    /// <see cref="ColumnMapping.TokenLabels"/> of equal length; from CoNLL, "token&lt;TAB&gt;tag" lines (or
    /// whitespace-separated columns with the token first and the tag last) with a blank line between sentences.
    /// </summary>
    /// <exception cref="DataFormatException">Empty file, malformed line, missing field, lists of different lengths, empty token.</exception>
    public static IReadOnlyList<TokenClassificationExample> ReadTokenClassification(string path, DataReadOptions? options = null)
    {
        options ??= DataReadOptions.Default;
        var format = ResolveFormat(path, options.Format, DataFileFormat.Jsonl, DataFileFormat.Conll);
        if (format == DataFileFormat.Conll) return NotEmpty(path, ConllReader.Read(path));

        var columns = options.Columns;
        var examples = new List<TokenClassificationExample>();
        foreach (var row in DataRowReader.Read(path, format, options.HasHeader))
        {
            var tokens = row.List(columns.Tokens, allowNumbers: false);
            var labels = row.List(columns.TokenLabels, allowNumbers: true);
            if (tokens.Count == 0) throw row.Source.Error(columns.Tokens, "the sentence has no tokens");
            if (labels.Count != tokens.Count) throw row.Source.Error(columns.TokenLabels, $"{labels.Count} labels for {tokens.Count} tokens");
            examples.Add(new TokenClassificationExample(tokens, labels, row.Source));
        }
        return NotEmpty(path, examples);
    }

    /// <summary>
    /// Language-modelling examples: column <see cref="ColumnMapping.Text"/>, or <see cref="ColumnMapping.Prompt"/> and
    /// <see cref="ColumnMapping.Completion"/> when the header (or first JSON record) has a prompt; from a .txt file,
    /// every non-blank line.
    /// </summary>
    /// <exception cref="DataFormatException">Empty file, malformed line, missing column, wrong column count, empty text.</exception>
    public static IReadOnlyList<LanguageModelingExample> ReadLanguageModeling(string path, DataReadOptions? options = null)
    {
        options ??= DataReadOptions.Default;
        var format = ResolveFormat(path, options.Format, DataFileFormat.Jsonl, DataFileFormat.Csv, DataFileFormat.Tsv, DataFileFormat.Text);
        var examples = new List<LanguageModelingExample>();
        if (format == DataFileFormat.Text)
        {
            int line = 0;
            foreach (string text in File.ReadLines(path))
            {
                line++;
                if (!string.IsNullOrWhiteSpace(text)) examples.Add(new LanguageModelingExample(text, null, new SourceLocation(path, line)));
            }
            return NotEmpty(path, examples);
        }

        var columns = options.Columns;
        bool? prompted = null;
        foreach (var row in DataRowReader.Read(path, format, options.HasHeader))
        {
            prompted ??= row.Has(columns.Prompt);
            examples.Add(prompted.Value
                ? new LanguageModelingExample(row.Text(columns.Completion), row.Text(columns.Prompt), row.Source)
                : new LanguageModelingExample(row.Text(columns.Text), null, row.Source));
        }
        return NotEmpty(path, examples);
    }

    /// <summary>
    /// The format given, or the one the extension implies: .jsonl/.ndjson/.json JSONL, .csv CSV, .tsv/.tab TSV,
    /// .conll/.iob/.bio CoNLL, .txt CoNLL for token classification and plain text for language modelling.
    /// </summary>
    static DataFileFormat ResolveFormat(string path, DataFileFormat? given, params DataFileFormat[] accepted)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new DataFormatException(path, null, null, "file not found");
        var format = given ?? Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".jsonl" or ".ndjson" or ".json" => DataFileFormat.Jsonl,
            ".csv" => DataFileFormat.Csv,
            ".tsv" or ".tab" => DataFileFormat.Tsv,
            ".conll" or ".iob" or ".bio" => DataFileFormat.Conll,
            ".txt" => accepted.Contains(DataFileFormat.Conll) ? DataFileFormat.Conll : DataFileFormat.Text,
            var other => throw new DataFormatException(path, null, null,
                $"cannot tell the format from the extension '{other}'; give one of {string.Join(", ", accepted)}"),
        };
        return accepted.Contains(format) ? format
            : throw new DataFormatException(path, null, null, $"{format} files cannot hold this task's examples (use {string.Join(", ", accepted)})");
    }

    static IReadOnlyList<T> NotEmpty<T>(string path, List<T> examples) =>
        examples.Count > 0 ? examples : throw new DataFormatException(path, null, null, "the file holds no examples");
}
