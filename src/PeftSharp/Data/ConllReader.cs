namespace PeftSharp.Data;

/// <summary>
/// CoNLL-style token classification files: one word per line as "token&lt;TAB&gt;tag" (or several columns, token
/// first and tag last, separated by tabs or else by spaces, as CoNLL-2003), sentences separated by blank lines;
/// "-DOCSTART-" lines are skipped.
/// </summary>
static class ConllReader
{
    public static List<TokenClassificationExample> Read(string path)
    {
        var examples = new List<TokenClassificationExample>();
        var tokens = new List<string>();
        var tags = new List<string>();
        int line = 0, start = 0;

        void Flush()
        {
            if (tokens.Count > 0) examples.Add(new TokenClassificationExample(tokens.ToArray(), tags.ToArray(), new SourceLocation(path, start)));
            tokens.Clear();
            tags.Clear();
        }

        foreach (string text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                Flush();
                continue;
            }
            if (text.StartsWith("-DOCSTART-", StringComparison.Ordinal)) continue;
            string[] fields = text.Contains('\t')
                ? text.Split('\t', StringSplitOptions.TrimEntries)
                : text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (fields.Length < 2 || fields[0].Length == 0 || fields[^1].Length == 0)
                throw new DataFormatException(path, line, null, $"expected \"token<TAB>tag\", found \"{(text.Length > 60 ? text[..57] + "..." : text)}\"");
            if (tokens.Count == 0) start = line;
            tokens.Add(fields[0]);
            tags.Add(fields[^1]);
        }
        Flush();
        return examples;
    }
}
