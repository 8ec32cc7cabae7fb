using PeftSharp.Tokenization;
using PeftSharp.Tokenization.Training;

namespace PeftSharp.Tests.Tokenization.Training;

public class ByteLevelBpeTrainerTests : IDisposable
{
    readonly TempDirectory _dir = Fixtures.TempDir();

    public void Dispose() => _dir.Dispose();

    static readonly string[] Texts =
    [
        "The cat sat on the mat.", "The dog sat on the log!", "Cats and dogs, together at last.",
        "Ünïcödé text: naïve café — 日本語 and emoji 🙂.", "Numbers 12345 and 2024-11-23.\nNew line\tand tab.",
    ];

    [Fact]
    public void TrainedFilesLoadAndRoundTrip()
    {
        var trained = new ByteLevelBpeTrainer(new ByteLevelBpeTrainerOptions { VocabSize = 320, MinFrequency = 1, ModelMaxLength = 128 }).Train(Texts);
        Assert.Equal(320, trained.Vocabulary.Count);
        Assert.Equal(320 - 2 - 256, trained.Merges.Count);
        trained.Save(_dir.Path);
        foreach (string file in new[] { "tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json" })
            Assert.True(File.Exists(_dir.File(file)), file);
        Assert.StartsWith("#version: 0.2\n", File.ReadAllText(_dir.File("merges.txt")));

        var tokenizer = PretrainedTokenizer.FromDirectory(_dir.Path);
        Assert.Equal(TokenizerKind.ByteLevelBpe, tokenizer.Kind);
        Assert.Equal((0, 0, 0, 1), (tokenizer.BosTokenId, tokenizer.EosTokenId, tokenizer.UnkTokenId, tokenizer.PadTokenId));
        Assert.Equal(128, tokenizer.ModelMaxLength);
        foreach (string text in Texts.Append("Unseen: ΑΒΓ ☃ \u0000 zebra"))
        {
            var ids = tokenizer.Encode(text).Ids;
            Assert.All(ids, id => Assert.InRange(id, 2, 319)); // no special or unknown tokens: every byte has a symbol
            Assert.Equal(text, tokenizer.Decode(ids));
        }
        // Words seen twice became single tokens (a space is "Ġ" in GPT-2's byte alphabet).
        Assert.Equal(["The", "Ġsat", "Ġon", "Ġthe"], tokenizer.Tokenize("The sat on the"));

        // The vocab.json + merges.txt pair gives the same tokenizer as tokenizer.json.
        var fromFiles = PretrainedTokenizer.FromBpeFiles(_dir.File("vocab.json"), _dir.File("merges.txt"));
        Assert.Equal(tokenizer.Encode(Texts[3]).Ids, fromFiles.Encode(Texts[3]).Ids);
    }

    [Fact]
    public void VocabularyIsWhatAHandTracedRunGives()
    {
        // One word per text, so no leading-space variants: the course corpus of BpeMergerTests.
        var texts = new[] { ("hug", 10), ("pug", 5), ("pun", 12), ("bun", 4), ("hugs", 5) }.SelectMany(w => Enumerable.Repeat(w.Item1, w.Item2));
        var trained = new ByteLevelBpeTrainer(new ByteLevelBpeTrainerOptions { VocabSize = 2 + 256 + 4, MinFrequency = 1 }).Train(texts);
        Assert.Equal([("u", "g"), ("u", "n"), ("h", "ug"), ("p", "un")], trained.Merges);
        Assert.Equal(["<|endoftext|>", "<|pad|>", "!", "\""], trained.Vocabulary.Take(4));
        Assert.Equal(["ug", "un", "hug", "pun"], trained.Vocabulary.Skip(258));
        Assert.Equal(5, trained.DistinctWords);

        trained.Save(_dir.Path);
        var tokenizer = PretrainedTokenizer.FromDirectory(_dir.Path);
        Assert.Equal(["hug", "s"], tokenizer.Tokenize("hugs"));
        Assert.Equal(["p", "ug"], tokenizer.Tokenize("pug"));
        Assert.Equal(["b", "un"], tokenizer.Tokenize("bun"));
    }

    [Fact]
    public void TrainingIsDeterministicAndIgnoresSpecialTokensInTheText()
    {
        var options = new ByteLevelBpeTrainerOptions { VocabSize = 300, MinFrequency = 1 };
        var a = new ByteLevelBpeTrainer(options).Train(Texts);
        var b = new ByteLevelBpeTrainer(options).Train(Texts.Reverse());
        Assert.Equal(a.Vocabulary, b.Vocabulary);
        Assert.Equal(a.Merges, b.Merges);
        var withSpecial = new ByteLevelBpeTrainer(options).Train(Texts.Select(t => t + "<|endoftext|>"));
        Assert.Equal(a.Merges, withSpecial.Merges);
    }

    [Fact]
    public void OptionsAreChecked()
    {
        Assert.Throws<ArgumentException>(() => new ByteLevelBpeTrainer(new ByteLevelBpeTrainerOptions { VocabSize = 200 }));
        Assert.Throws<ArgumentException>(() => new ByteLevelBpeTrainer(new ByteLevelBpeTrainerOptions { PadToken = "<|endoftext|>" }));
        Assert.Equal("VocabSize", Assert.Throws<ArgumentOutOfRangeException>(() => new ByteLevelBpeTrainerOptions { VocabSize = 0 }).ParamName);
        Assert.Equal("MinFrequency", Assert.Throws<ArgumentOutOfRangeException>(() => new WordPieceTrainerOptions { MinFrequency = 0 }).ParamName);
    }
}
