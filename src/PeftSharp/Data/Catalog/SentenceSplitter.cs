using System.Text.RegularExpressions;

namespace PeftSharp.Data.Catalog;

/// <summary>
/// Splits running English text into sentences: after ".", "!" or "?" (and any closing quotes or brackets) followed
/// by whitespace and an upper-case letter, a digit or an opening quote, unless the word before the stop is a title
/// or common abbreviation ("Mr.", "Gen.", "U.S.", "Jan.") or a single capital initial ("John F. Kennedy").
/// </summary>
static partial class SentenceSplitter
{
    [GeneratedRegex("""(?<=[.!?]["'”’)\]]*)\s+(?=["'“‘(\[]*[A-Z0-9])""")]
    private static partial Regex Boundary();

    static readonly HashSet<string> Abbreviations = new(StringComparer.Ordinal)
    {
        "Mr", "Mrs", "Ms", "Messrs", "Dr", "St", "Mt", "Ft", "Jr", "Sr", "Hon", "Rev", "Gen", "Col", "Maj", "Capt", "Lt", "Adm",
        "Gov", "Sen", "Rep", "Pres", "No", "Nos", "Vol", "Art", "Sec", "Ch", "Co", "Inc", "Corp", "Bros", "vs", "etc", "viz",
        "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec",
    };

    public static List<string> Split(string text)
    {
        var sentences = new List<string>();
        int start = 0;
        foreach (Match boundary in Boundary().Matches(text))
        {
            if (IsAbbreviation(text, boundary.Index)) continue;
            Add(text[start..boundary.Index], sentences);
            start = boundary.Index + boundary.Length;
        }
        Add(text[start..], sentences);
        return sentences;
    }

    static void Add(string sentence, List<string> sentences)
    {
        sentence = sentence.Trim();
        if (sentence.Length > 0) sentences.Add(sentence);
    }

    /// <summary>Whether the stop just before <paramref name="end"/> closes an abbreviation or initial rather than a sentence.</summary>
    static bool IsAbbreviation(string text, int end)
    {
        if (end == 0 || text[end - 1] != '.') return false;
        int start = end - 1;
        while (start > 0 && !char.IsWhiteSpace(text[start - 1]) && text[start - 1] is not ('(' or '"' or '“')) start--;
        string word = text[start..(end - 1)];
        if (word.Length == 1 && char.IsUpper(word[0])) return true;                  // an initial: "F."
        if (word.Length >= 3 && word.Count(c => c == '.') >= 1 && word.Split('.').All(p => p.Length <= 2)) return true; // "U.S", "D.C", "p.m"
        return Abbreviations.Contains(word);
    }
}
