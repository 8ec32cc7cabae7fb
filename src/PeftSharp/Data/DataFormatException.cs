namespace PeftSharp.Data;

/// <summary>
/// A data file is unusable: missing column, malformed JSON line, wrong column count, unknown label, empty text or
/// an empty file. The message names the file, the line (1-based) and the column or field where there is one.
/// </summary>
public sealed class DataFormatException : PeftSharpException
{
    public DataFormatException(string file, int? line, string? field, string message, Exception? inner = null)
        : base($"{file}{(line is int l ? $":{l}" : "")}: {(field is null ? "" : $"field '{field}': ")}{message}", inner)
    {
        File = file;
        Line = line;
        Field = field;
    }

    /// <summary>The file at fault.</summary>
    public string File { get; }

    /// <summary>The 1-based line where the bad record starts, when the problem is with one record.</summary>
    public int? Line { get; }

    /// <summary>The column or JSON field at fault, when one is.</summary>
    public string? Field { get; }
}
