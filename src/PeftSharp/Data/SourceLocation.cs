namespace PeftSharp.Data;

/// <summary>Where an example was read: its file and the 1-based line it starts on (0 when not line-based).</summary>
public readonly record struct SourceLocation(string File, int Line)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}" : File;

    /// <summary>A <see cref="DataFormatException"/> at this location.</summary>
    public DataFormatException Error(string? field, string message) => new(File, Line > 0 ? Line : null, field, message);
}
