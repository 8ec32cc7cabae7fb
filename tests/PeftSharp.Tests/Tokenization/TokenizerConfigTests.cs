using PeftSharp.Tokenization;

namespace PeftSharp.Tests.Tokenization;

/// <summary>tokenizer_config.json and special_tokens_map.json as transformers reads them.</summary>
public class TokenizerConfigTests
{
    [Fact]
    public void ReadsTheRealGpt2Config()
    {
        var config = TokenizerConfig.FromDirectory(Fixtures.Shared("adapters", "gpt2-lora-causal-lm"));
        Assert.Equal("<|endoftext|>", config.PadToken); // an object {"content": ...} in special_tokens_map.json
        Assert.Equal(1024, config.ModelMaxLength);
        Assert.False(config.AddPrefixSpace);
        Assert.False(config.CleanUpTokenizationSpaces);
        Assert.Equal("GPT2Tokenizer", config.TokenizerClass);
        var added = Assert.Single(config.AddedTokens);
        Assert.Equal(new AddedToken("<|endoftext|>", 50256) { Special = true }, added);
    }

    [Fact]
    public void ReadsTheRealLlamaConfig()
    {
        var config = TokenizerConfig.FromDirectory(Fixtures.Shared("models", "stories260K-hf"));
        Assert.Equal((true, false, true), (config.AddBosToken, config.AddEosToken, config.Legacy));
        Assert.Null(config.PadToken);
        Assert.Equal("<s>", config.BosToken);
    }

    [Fact]
    public void SpecialTokensMapWinsAndVeryLargeMaxLengthMeansNone()
    {
        using var dir = Fixtures.TempDir();
        File.WriteAllText(dir.File("tokenizer_config.json"), """
            {"bos_token": "<a>", "eos_token": {"content": "<e>", "lstrip": false}, "model_max_length": 1000000000000000019884624838656,
             "padding_side": "left", "truncation_side": "left", "additional_special_tokens": ["<x>", {"content": "<y>"}],
             "added_tokens_decoder": {"7": {"content": "<x>", "special": true, "lstrip": true, "normalized": false}}}
            """);
        File.WriteAllText(dir.File("special_tokens_map.json"), """{"bos_token": "<b>"}""");
        var config = TokenizerConfig.FromDirectory(dir.Path);
        Assert.Equal("<b>", config.BosToken);
        Assert.Equal("<e>", config.EosToken);
        Assert.Null(config.ModelMaxLength);
        Assert.Equal(PaddingSide.Left, config.PaddingSide);
        Assert.Equal(TruncationSide.Left, config.TruncationSide);
        Assert.Equal(["<x>", "<y>"], config.AdditionalSpecialTokens);
        Assert.Equal(new AddedToken("<x>", 7) { Special = true, LStrip = true }, Assert.Single(config.AddedTokens));
    }

    [Fact]
    public void MissingFilesGiveAnEmptyConfig()
    {
        using var dir = Fixtures.TempDir();
        Assert.Equal(TokenizerConfig.Empty, TokenizerConfig.FromDirectory(dir.Path));
    }
}
