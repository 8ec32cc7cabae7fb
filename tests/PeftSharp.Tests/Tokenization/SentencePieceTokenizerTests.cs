using Microsoft.ML.Tokenizers;
using PeftSharp.Tokenization;

namespace PeftSharp.Tests.Tokenization;

/// <summary>The real stories260K SentencePiece tokenizer (512 BPE pieces with byte fallback, Llama-2 style).</summary>
public class SentencePieceTokenizerTests
{
    static readonly string HfDir = Fixtures.Shared("models", "stories260K-hf");
    static readonly string ModelPath = Fixtures.Shared("models", "stories260K", "tokenizer.model");
    static readonly Lazy<PretrainedTokenizer> Tokenizer = new(() => PretrainedTokenizer.FromDirectory(HfDir));

    // llama2.c's published greedy output of this model, without its leading space (the decoder drops that one).
    const string Story = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.";

    [Fact]
    public void LoadsFromTokenizerModel()
    {
        var tokenizer = Tokenizer.Value;
        Assert.Equal(Path.Combine(HfDir, "tokenizer.model"), tokenizer.Source);
        Assert.Equal(TokenizerKind.SentencePieceBpe, tokenizer.Kind);
        Assert.Equal(512, tokenizer.VocabSize);
        Assert.Equal((1, 2, 0), (tokenizer.BosTokenId, tokenizer.EosTokenId, tokenizer.UnkTokenId));
        Assert.Equal(("<s>", "</s>", "<unk>"), (tokenizer.BosToken, tokenizer.EosToken, tokenizer.UnkToken));
        Assert.Null(tokenizer.PadTokenId);
        Assert.Equal(512, tokenizer.ModelMaxLength);
    }

    [Fact]
    public void AddsBosAndRoundTripsTheStory()
    {
        var ids = Tokenizer.Value.Encode(Story).Ids;
        Assert.Equal(1, ids[0]);
        Assert.DoesNotContain(0, ids); // no unknown pieces
        Assert.Equal(Story, Tokenizer.Value.Decode(ids, skipSpecialTokens: true));
        Assert.Equal("<s> " + Story, Tokenizer.Value.Decode(ids));
        Assert.Equal("▁Once▁upon▁a▁time,", string.Concat(Tokenizer.Value.Tokenize("Once upon a time,")));
    }

    [Fact]
    public void MatchesMicrosoftSentencePieceEncoding()
    {
        // Independent reference: Microsoft.ML.Tokenizers' own LlamaTokenizer with SentencePiece's normalization.
        using var stream = File.OpenRead(ModelPath);
        var reference = LlamaTokenizer.Create(stream, addBeginOfSentence: true);
        foreach (string text in new[] { Story, "Lily and Ben went to the park.", "The dog said: \"Woof!\"" })
            Assert.Equal(reference.EncodeToIds(text), Tokenizer.Value.Encode(text).Ids);
    }

    [Fact]
    public void FallsBackToBytes()
    {
        // Pieces 3..258 are the bytes <0x00>..<0xFF>; "東" (E6 9D B1) is not a piece, so it becomes three byte pieces.
        var ids = Tokenizer.Value.Encode("東", addSpecialTokens: false).Ids;
        Assert.Equal([3 + 0xE6, 3 + 0x9D, 3 + 0xB1], ids.TakeLast(3));
        Assert.Equal("<0xE6>", Tokenizer.Value.IdToToken(3 + 0xE6));
        foreach (string text in new[] { "é", "naïve café 😀 東京", "Multiple   spaces\nand lines" })
            Assert.Equal(text, Tokenizer.Value.Decode(Tokenizer.Value.Encode(text).Ids, skipSpecialTokens: true));
    }

    [Fact]
    public void BytesStreamAndFileAgree()
    {
        byte[] bytes = File.ReadAllBytes(ModelPath);
        var fromBytes = PretrainedTokenizer.FromSentencePiece(bytes);
        using var stream = new MemoryStream(bytes);
        var fromStream = PretrainedTokenizer.FromSentencePiece(stream);
        var fromFile = PretrainedTokenizer.FromSentencePiece(ModelPath);
        foreach (string line in TextSamples.Lines)
        {
            var expected = Tokenizer.Value.Encode(line).Ids;
            Assert.Equal(expected, fromBytes.Encode(line).Ids);
            Assert.Equal(expected, fromStream.Encode(line).Ids);
            Assert.Equal(expected, fromFile.Encode(line).Ids);
        }
    }

    [Fact]
    public void BosAndEosFollowTheConfig()
    {
        var config = TokenizerConfig.FromDirectory(HfDir) with { AddBosToken = false, AddEosToken = true };
        var tokenizer = PretrainedTokenizer.FromSentencePiece(ModelPath, config);
        var ids = tokenizer.Encode("Lily").Ids;
        Assert.NotEqual(1, ids[0]);
        Assert.Equal(2, ids[^1]);
        var pair = tokenizer.Encode("Lily", "Ben");
        Assert.Equal(2, pair.Ids.Count(id => id == 2));
        Assert.Equal(0, pair.TokenTypeIds[0]);
        Assert.Equal(1, pair.TokenTypeIds[^1]);
    }

    [Fact]
    public void SpecialTokensInTextAndLegacyPrefix()
    {
        var legacy = Tokenizer.Value;
        var ids = legacy.Encode("Lily<s> Ben", addSpecialTokens: false).Ids;
        Assert.Contains(1, ids);
        // Legacy (the default): the text after a special token gets its own "▁" prefix on top of its space.
        var after = ids.SkipWhile(id => id != 1).Skip(1).Select(id => legacy.IdToToken(id));
        Assert.Equal("▁▁Ben", string.Concat(after));

        var modern = PretrainedTokenizer.FromSentencePiece(ModelPath, TokenizerConfig.FromDirectory(HfDir) with { Legacy = false });
        var modernIds = modern.Encode("Lily<s> Ben", addSpecialTokens: false).Ids;
        Assert.Equal("▁Ben", string.Concat(modernIds.SkipWhile(id => id != 1).Skip(1).Select(id => modern.IdToToken(id))));
        Assert.Equal(legacy.Encode("Lily").Ids, modern.Encode("Lily").Ids);
    }
}
