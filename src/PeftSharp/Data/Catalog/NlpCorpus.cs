using System.Globalization;
using System.Text.RegularExpressions;

namespace PeftSharp.Data.Catalog;

/// <summary>Reads nlp-corpus: builds/doc-&lt;n&gt;.json files, each a JSON array of sentence strings.</summary>
static partial class NlpCorpus
{
    [GeneratedRegex(@"^doc-(\d+)\.json$")]
    private static partial Regex DocumentName();

    /// <summary>(document number, sentences) for every builds/doc-N.json, by number.</summary>
    public static List<(int Number, List<string> Sentences)> Read(string root)
    {
        string builds = Path.Combine(root, "builds");
        if (!Directory.Exists(builds)) throw new DataFormatException(builds, null, null, "directory not found; is this the nlp-corpus package?");
        var documents = new List<(int, List<string>)>();
        foreach (string path in Directory.EnumerateFiles(builds, "*.json"))
        {
            var match = DocumentName().Match(Path.GetFileName(path));
            if (!match.Success) continue;
            var sentences = JsonFields.Strings(path);
            documents.Add((int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), sentences));
        }
        return documents.Count > 0 ? documents.OrderBy(d => d.Item1).ToList() : throw new DataFormatException(builds, null, null, "holds no doc-N.json files");
    }
}
