using PeftSharp.Tokenization;

namespace PeftSharp.Tests.Tokenization;

/// <summary>The real bert-base-uncased tokenizer (shared/adapters/bert-base-lora-seq-cls): WordPiece.</summary>
public class BertTokenizerTests
{
    static readonly string Dir = Fixtures.Shared("adapters", "bert-base-lora-seq-cls");
    static readonly Lazy<PretrainedTokenizer> FromJson = new(() => PretrainedTokenizer.FromDirectory(Dir));
    static readonly Lazy<PretrainedTokenizer> FromVocab = new(() => PretrainedTokenizer.FromWordPieceVocab(
        Path.Combine(Dir, "vocab.txt"), TokenizerConfig.FromDirectory(Dir)));
    static readonly Lazy<PretrainedTokenizer> DistilBert = new(() => PretrainedTokenizer.FromDirectory(Fixtures.Shared("adapters", "distilbert-lora-seq-cls")));

    // Ids read straight from vocab.txt (line number = id), independent of the code under test.
    static readonly Lazy<string[]> VocabLines = new(() => File.ReadAllLines(Path.Combine(Dir, "vocab.txt")));
    static int VocabId(string token) => Array.IndexOf(VocabLines.Value, token) is >= 0 and var id ? id : throw new KeyNotFoundException(token);

    [Fact]
    public void KnownIds()
    {
        foreach (var tokenizer in new[] { FromJson.Value, FromVocab.Value, DistilBert.Value })
        {
            Assert.Equal([101, 7592, 2088, 102], tokenizer.Encode("hello world").Ids);
            Assert.Equal(101, tokenizer.ClsTokenId);
            Assert.Equal(102, tokenizer.SepTokenId);
            Assert.Equal(0, tokenizer.PadTokenId);
            Assert.Equal(103, tokenizer.MaskTokenId);
            Assert.Equal(100, tokenizer.UnkTokenId);
            Assert.Null(tokenizer.BosTokenId);
            Assert.Equal(30522, tokenizer.VocabSize);
            Assert.Equal(TokenizerKind.WordPiece, tokenizer.Kind);
            Assert.Equal(512, tokenizer.ModelMaxLength);
        }
        Assert.Equal(Path.Combine(Dir, "tokenizer.json"), FromJson.Value.Source);
    }

    [Fact]
    public void SplitsIntoWordPieces()
    {
        // Greedy longest-match-first: "una" beats "un", so bert-base-uncased splits "unaffable" as una ##ffa ##ble.
        Assert.Equal(["una", "##ffa", "##ble"], FromJson.Value.Tokenize("unaffable"));
        Assert.Equal([101, VocabId("una"), VocabId("##ffa"), VocabId("##ble"), 102], FromJson.Value.Encode("unaffable").Ids);
        foreach (string word in new[] { "unaffable", "tokenization", "transformers", "pneumonoultramicroscopicsilicovolcanoconiosis", "xylophonist", "hello" })
            Assert.Equal(ReferenceWordPiece(word), FromVocab.Value.Tokenize(word));
    }

    /// <summary>WordPiece written out plainly over vocab.txt, as an independent reference.</summary>
    static List<string> ReferenceWordPiece(string word)
    {
        var vocab = VocabLines.Value.ToHashSet();
        var pieces = new List<string>();
        for (int start = 0; start < word.Length;)
        {
            int end = word.Length;
            string? piece = null;
            for (; end > start; end--)
            {
                string candidate = (start > 0 ? "##" : "") + word[start..end];
                if (vocab.Contains(candidate)) { piece = candidate; break; }
            }
            if (piece is null) return ["[UNK]"];
            pieces.Add(piece);
            start = end;
        }
        return pieces;
    }

    [Fact]
    public void LowerCasesAndStripsAccents()
    {
        var expected = FromJson.Value.Encode("hello world").Ids;
        Assert.Equal(expected, FromJson.Value.Encode("HELLO World").Ids);
        Assert.Equal(expected, FromJson.Value.Encode("Héllo wörld").Ids);
        Assert.Equal(expected, FromVocab.Value.Encode("HÉLLO WÖRLD").Ids);
    }

    [Fact]
    public void CasedConfigKeepsCaseAndAccents()
    {
        var cased = PretrainedTokenizer.FromTokenizerJson(Path.Combine(Dir, "tokenizer.json"), TokenizerConfig.FromDirectory(Dir) with { DoLowerCase = false });
        // "Hello" is not in the uncased vocabulary as a whole word, so it no longer maps to "hello".
        Assert.NotEqual(FromJson.Value.Encode("Hello").Ids, cased.Encode("Hello").Ids);
        Assert.Equal(FromJson.Value.Encode("hello").Ids, cased.Encode("hello").Ids);
    }

    [Fact]
    public void IsolatesPunctuationSymbolsAndCjk()
    {
        Assert.Equal([VocabId("$"), VocabId("5"), VocabId("foo"), VocabId("_"), VocabId("bar")], FromJson.Value.Encode("$5 foo_bar", addSpecialTokens: false).Ids);
        Assert.Equal([VocabId("中"), VocabId("文")], FromJson.Value.Encode("中文", addSpecialTokens: false).Ids);
        // Tabs and newlines separate words; control and format characters (soft hyphen) vanish.
        Assert.Equal(FromJson.Value.Encode("hello world foo").Ids, FromJson.Value.Encode("hello\nworld\tfoo").Ids);
        Assert.Equal(FromJson.Value.Encode("ab").Ids, FromJson.Value.Encode("a\u00adb").Ids);
        Assert.Equal([100], FromJson.Value.Encode("😀", addSpecialTokens: false).Ids);
    }

    [Fact]
    public void PairsGetSegmentIds()
    {
        var pair = FromJson.Value.Encode("hello", "world");
        Assert.Equal([101, 7592, 102, 2088, 102], pair.Ids);
        Assert.Equal([0, 0, 0, 1, 1], pair.TokenTypeIds);
        Assert.Equal([1, 1, 1, 1, 1], pair.AttentionMask);
        var bare = FromJson.Value.Encode("hello", "world", addSpecialTokens: false);
        Assert.Equal([7592, 2088], bare.Ids);
        Assert.Equal([0, 1], bare.TokenTypeIds);
    }

    [Fact]
    public void SpecialTokensInTextMapToTheirIds()
    {
        Assert.Equal([101, 7592, 102, 2088, 102], FromJson.Value.Encode("hello [SEP] world").Ids);
        Assert.Equal([101, 103, 102], FromVocab.Value.Encode("[MASK]").Ids);
        // Special tokens match the raw text: a lower-case "[sep]" is ordinary punctuation and a word.
        Assert.Equal([VocabId("["), VocabId("sep"), VocabId("]")], FromJson.Value.Encode("[sep]", addSpecialTokens: false).Ids);
    }

    [Fact]
    public void AllLoadersAgree()
    {
        foreach (string line in TextSamples.Lines.Append(TextSamples.All))
        {
            var ids = FromJson.Value.Encode(line).Ids;
            Assert.Equal(ids, FromVocab.Value.Encode(line).Ids);
            Assert.Equal(ids, DistilBert.Value.Encode(line).Ids);
        }
    }

    [Fact]
    public void DecodeJoinsPiecesAndCleansUp()
    {
        var ids = FromJson.Value.Encode("Hello, world! It's un-affable.").Ids;
        Assert.Equal("[CLS] hello, world! it ' s un - affable. [SEP]", FromJson.Value.Decode(ids));
        Assert.Equal("hello, world! it ' s un - affable.", FromJson.Value.Decode(ids, skipSpecialTokens: true));
        Assert.Equal("hello, world! it's un - affable.", FromJson.Value.Decode(ids, skipSpecialTokens: true, cleanUpTokenizationSpaces: true));
        Assert.Equal("unaffable", FromVocab.Value.Decode(FromVocab.Value.Encode("unaffable").Ids, skipSpecialTokens: true));
    }
}
