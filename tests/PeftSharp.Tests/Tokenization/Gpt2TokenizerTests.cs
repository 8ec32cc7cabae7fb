using PeftSharp.Tokenization;

namespace PeftSharp.Tests.Tokenization;

/// <summary>The real GPT-2 tokenizer (shared/adapters/gpt2-lora-causal-lm): byte-level BPE.</summary>
public class Gpt2TokenizerTests
{
    static readonly string Dir = Fixtures.Shared("adapters", "gpt2-lora-causal-lm");
    static readonly Lazy<PretrainedTokenizer> FromJson = new(() => PretrainedTokenizer.FromDirectory(Dir));
    static readonly Lazy<PretrainedTokenizer> FromFiles = new(() => PretrainedTokenizer.FromBpeFiles(
        Path.Combine(Dir, "vocab.json"), Path.Combine(Dir, "merges.txt"), TokenizerConfig.FromDirectory(Dir)));

    [Fact]
    public void DirectoryPrefersTokenizerJson()
    {
        var tokenizer = FromJson.Value;
        Assert.Equal(Path.Combine(Dir, "tokenizer.json"), tokenizer.Source);
        Assert.Equal(TokenizerKind.ByteLevelBpe, tokenizer.Kind);
        Assert.Equal(50257, tokenizer.VocabSize);
        Assert.Equal(50257, tokenizer.VocabSizeWithAddedTokens);
        Assert.Equal(1024, tokenizer.ModelMaxLength);
    }

    [Theory]
    [InlineData("Hello world", new[] { 15496, 995 })]
    [InlineData(" world", new[] { 995 })]
    [InlineData("<|endoftext|>", new[] { 50256 })]
    [InlineData("Hello world<|endoftext|> world", new[] { 15496, 995, 50256, 995 })]
    public void KnownIds(string text, int[] expected)
    {
        Assert.Equal(expected, FromJson.Value.Encode(text).Ids);
        Assert.Equal(expected, FromFiles.Value.Encode(text).Ids);
    }

    [Fact]
    public void SpecialTokensComeFromTheConfig()
    {
        var tokenizer = FromJson.Value;
        Assert.Equal("<|endoftext|>", tokenizer.EosToken);
        Assert.Equal(50256, tokenizer.BosTokenId);
        Assert.Equal(50256, tokenizer.EosTokenId);
        Assert.Equal(50256, tokenizer.UnkTokenId);
        Assert.Equal(50256, tokenizer.PadTokenId);
        Assert.Null(tokenizer.ClsTokenId);
        Assert.Contains(50256, tokenizer.SpecialTokenIds);
    }

    [Fact]
    public void AddsNoSpecialTokensAndPairsConcatenate()
    {
        var single = FromJson.Value.Encode("Hello world");
        Assert.Equal([0, 0], single.TokenTypeIds);
        var pair = FromJson.Value.Encode("Hello", " world");
        Assert.Equal([15496, 995], pair.Ids);
        Assert.Equal([0, 0], pair.TokenTypeIds);
    }

    [Fact]
    public void TokensAreByteLevelStrings()
    {
        Assert.Equal(["Hello", "Ġworld"], FromJson.Value.Tokenize("Hello world"));
        // Tokens spell the UTF-8 bytes in GPT-2's alphabet: space is Ġ, newline Ċ, é is the two bytes C3 A9.
        Assert.Equal("ĊĠĠĠx", string.Concat(FromJson.Value.Tokenize("\n   x")));
        Assert.Equal("cafÃ©", string.Concat(FromJson.Value.Tokenize("café")));
    }

    [Fact]
    public void TokenizerJsonAndVocabMergesAgree()
    {
        foreach (string line in TextSamples.Lines)
            Assert.Equal(FromFiles.Value.Encode(line).Ids, FromJson.Value.Encode(line).Ids);
        var all = FromJson.Value.Encode(TextSamples.All).Ids;
        Assert.Equal(FromFiles.Value.Encode(TextSamples.All).Ids, all);
        Assert.True(all.Count > 500, $"only {all.Count} tokens");
    }

    [Fact]
    public void DecodeInvertsEncode()
    {
        foreach (string line in TextSamples.Lines.Append(TextSamples.All))
        {
            Assert.Equal(line, FromJson.Value.Decode(FromJson.Value.Encode(line).Ids));
            Assert.Equal(line, FromFiles.Value.Decode(FromFiles.Value.Encode(line).Ids));
        }
    }

    [Fact]
    public void DecodeCanSkipSpecialTokens()
    {
        var ids = FromJson.Value.Encode("Hello<|endoftext|> world").Ids;
        Assert.Equal("Hello<|endoftext|> world", FromJson.Value.Decode(ids));
        Assert.Equal("Hello world", FromJson.Value.Decode(ids, skipSpecialTokens: true));
        Assert.Equal("Hello world", FromJson.Value.Decode(new long[] { 15496, 995 }));
    }

    [Fact]
    public void AddPrefixSpaceFromConfigChangesTheFirstWord()
    {
        var config = TokenizerConfig.FromDirectory(Dir) with { AddPrefixSpace = true };
        var tokenizer = PretrainedTokenizer.FromTokenizerJson(Path.Combine(Dir, "tokenizer.json"), config);
        Assert.Equal([995], tokenizer.Encode("world").Ids);
        Assert.Equal([995], PretrainedTokenizer.FromBpeFiles(Path.Combine(Dir, "vocab.json"), Path.Combine(Dir, "merges.txt"), config).Encode("world").Ids);
    }

    [Fact]
    public void InvalidUtf8FromBytesDecodesToReplacementCharacter()
    {
        // "😀" is four byte tokens or fewer; dropping the last id leaves an incomplete UTF-8 sequence.
        var ids = FromJson.Value.Encode("😀").Ids;
        string partial = FromJson.Value.Decode(ids.Take(ids.Count - 1));
        Assert.Contains('\uFFFD', partial);
    }

    [Fact]
    public void AddBosTokenFromConfigForVocabFiles()
    {
        var config = TokenizerConfig.FromDirectory(Dir) with { AddBosToken = true };
        var tokenizer = PretrainedTokenizer.FromBpeFiles(Path.Combine(Dir, "vocab.json"), Path.Combine(Dir, "merges.txt"), config);
        Assert.Equal([50256, 15496, 995], tokenizer.Encode("Hello world").Ids);
        Assert.Equal([0, 0, 1], tokenizer.Encode("Hello", " world").TokenTypeIds);
    }
}
