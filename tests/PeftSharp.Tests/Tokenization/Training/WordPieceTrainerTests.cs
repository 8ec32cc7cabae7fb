using PeftSharp.Tokenization;
using PeftSharp.Tokenization.Training;

namespace PeftSharp.Tests.Tokenization.Training;

public class WordPieceTrainerTests : IDisposable
{
    readonly TempDirectory _dir = Fixtures.TempDir();

    public void Dispose() => _dir.Dispose();

    static IEnumerable<string> CourseCorpus() =>
        new[] { ("Hug", 10), ("pug", 5), ("pun", 12), ("bun", 4), ("hugs", 5) }.SelectMany(w => Enumerable.Repeat(w.Item1, w.Item2));

    [Fact]
    public void VocabularyIsWhatAHandTracedRunGives()
    {
        // Words spelled h ##u ##g etc. ("Hug" lower-cased). Pairs: ##u ##g 20, p ##u 17, ##u ##n 16, h ##u 15 ->
        // "##ug"; then ##u ##n 16 -> "##un"; h ##ug 15 -> "hug"; p ##un 12 -> "pun" (4 merges fit in 5 + 14 + 4 = 23).
        var trained = new WordPieceTrainer(new WordPieceTrainerOptions { VocabSize = 23, MinFrequency = 1 }).Train(CourseCorpus());
        Assert.Equal(
            ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "b", "g", "h", "n", "p", "s", "u", "##b", "##g", "##h", "##n", "##p", "##s", "##u", "##ug", "##un", "hug", "pun"],
            trained.Vocabulary);
        Assert.Equal([("##u", "##g"), ("##u", "##n"), ("h", "##ug"), ("p", "##un")], trained.Merges);

        trained.Save(_dir.Path);
        Assert.Equal(trained.Vocabulary, File.ReadAllLines(_dir.File("vocab.txt")));
        var tokenizer = PretrainedTokenizer.FromDirectory(_dir.Path);
        Assert.Equal(TokenizerKind.WordPiece, tokenizer.Kind);
        Assert.Equal(["hug", "##s"], tokenizer.Tokenize("HUGS"));
        Assert.Equal(["b", "##un"], tokenizer.Tokenize("bun"));
        Assert.Equal(["[UNK]"], tokenizer.Tokenize("zap"));
        Assert.Equal([2, 21, 17, 3], tokenizer.Encode("hugs").Ids);
        Assert.Equal([2, 21, 3, 22, 3], tokenizer.Encode("hug", "pun").Ids);
        Assert.Equal([0, 0, 0, 1, 1], tokenizer.Encode("hug", "pun").TokenTypeIds);
        Assert.Equal((0, 1, 2, 3, 4), (tokenizer.PadTokenId, tokenizer.UnkTokenId, tokenizer.ClsTokenId, tokenizer.SepTokenId, tokenizer.MaskTokenId));

        // vocab.txt alone (with the config files) loads the same tokenizer.
        File.Delete(_dir.File("tokenizer.json"));
        Assert.Equal([2, 21, 17, 3], PretrainedTokenizer.FromDirectory(_dir.Path).Encode("hugs").Ids);
    }

    [Fact]
    public void TrainedOnTextItRoundTripsLowerCased()
    {
        string[] texts = ["The cat sat on the mat.", "The dog sat on the log!", "Cats and dogs, together at last.", "Café au lait, s'il vous plaît."];
        var trained = new WordPieceTrainer(new WordPieceTrainerOptions { VocabSize = 120, MinFrequency = 1 }).Train(texts);
        trained.Save(_dir.Path);
        var tokenizer = PretrainedTokenizer.FromDirectory(_dir.Path);
        Assert.Equal(["the", "cat", "sat", "on", "the", "mat", "."], tokenizer.Tokenize("The cat sat on the mat."));
        foreach (string text in texts)
        {
            var ids = tokenizer.Encode(text).Ids;
            Assert.DoesNotContain(tokenizer.UnkTokenId!.Value, ids);
            Assert.Equal(text.ToLowerInvariant().Replace("é", "e").Replace("î", "i"), tokenizer.Decode(ids, skipSpecialTokens: true));
        }
    }

    [Fact]
    public void TheAlphabetCanBeLimitedAndCasingKept()
    {
        var trained = new WordPieceTrainer(new WordPieceTrainerOptions { VocabSize = 50, MinFrequency = 1, LimitAlphabet = 3, Lowercase = false })
            .Train(["aaa bbb ccc aaa bbb aaa Z"]);
        Assert.Equal(["a", "b", "c", "##a", "##b", "##c"], trained.Vocabulary.Skip(5).Take(6));
        Assert.DoesNotContain("Z", trained.Vocabulary);
        trained.Save(_dir.Path);
        Assert.Equal(["[UNK]"], PretrainedTokenizer.FromDirectory(_dir.Path).Tokenize("Z"));
    }
}
