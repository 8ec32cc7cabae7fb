namespace PeftSharp.Data;

/// <summary>How to read a data file.</summary>
public sealed record DataReadOptions
{
    /// <summary>The layout; null infers it from the file extension.</summary>
    public DataFileFormat? Format { get; init; }

    /// <summary>Column names.</summary>
    public ColumnMapping Columns { get; init; } = ColumnMapping.Default;

    /// <summary>CSV/TSV: the first row names the columns. Without a header, columns are named "0", "1", ...</summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>The defaults: format from the extension, default column names, a header row.</summary>
    public static DataReadOptions Default { get; } = new();
}
