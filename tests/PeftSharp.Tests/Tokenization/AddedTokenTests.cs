using System.Text.Json.Nodes;
using PeftSharp.Tokenization;

namespace PeftSharp.Tests.Tokenization;

/// <summary>Added tokens: matched whole, lstrip/rstrip/single_word, normalized matching, new special tokens from the config.</summary>
public class AddedTokenTests
{
    static readonly string BertDir = Fixtures.Shared("adapters", "bert-base-lora-seq-cls");

    static PretrainedTokenizer BertWith(TempDirectory dir, string addedTokensJson, string? configJson = null)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(BertDir, "tokenizer.json")))!;
        json["added_tokens"] = JsonNode.Parse(addedTokensJson);
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
        File.WriteAllText(dir.File("tokenizer_config.json"), configJson ?? File.ReadAllText(Path.Combine(BertDir, "tokenizer_config.json")));
        return PretrainedTokenizer.FromDirectory(dir.Path);
    }

    static string Token(string content, int id, bool special = false, bool lstrip = false, bool rstrip = false, bool singleWord = false, bool normalized = false) =>
        $$"""{"id": {{id}}, "content": "{{content}}", "special": {{(special ? "true" : "false")}}, "lstrip": {{(lstrip ? "true" : "false")}}, "rstrip": {{(rstrip ? "true" : "false")}}, "single_word": {{(singleWord ? "true" : "false")}}, "normalized": {{(normalized ? "true" : "false")}}}""";

    [Fact]
    public void NewTokensGetTheirIdsAndMatchRules()
    {
        using var dir = Fixtures.TempDir();
        var tokenizer = BertWith(dir, "[" + string.Join(", ",
            Token("[PAD]", 0, special: true), Token("[UNK]", 100, special: true), Token("[CLS]", 101, special: true),
            Token("[SEP]", 102, special: true), Token("[MASK]", 103, special: true, lstrip: true),
            Token("<new>", 30522), Token("qqx", 30523, singleWord: true), Token("Yo", 30524, normalized: true)) + "]");
        Assert.Equal(30525, tokenizer.VocabSizeWithAddedTokens);
        Assert.Equal(30522, tokenizer.VocabSize);

        int hello = 7592, world = 2088;
        Assert.Equal([hello, 30522, world], tokenizer.Encode("hello<new>world", addSpecialTokens: false).Ids);
        // lstrip: the spaces before [MASK] belong to it.
        Assert.Equal([hello, 103], tokenizer.Encode("hello   [MASK]", addSpecialTokens: false).Ids);
        // single_word: "qqx" inside "qqxza" is not the added token.
        Assert.Equal([hello, 30523], tokenizer.Encode("hello qqx", addSpecialTokens: false).Ids);
        Assert.DoesNotContain(30523, tokenizer.Encode("qqxza", addSpecialTokens: false).Ids);
        // normalized: matched after lower-casing, so "YO" and "yo" both hit the token "Yo" (normalized to "yo").
        Assert.Equal([30524], tokenizer.Encode("YO", addSpecialTokens: false).Ids);
        Assert.Equal("hello <new> world", tokenizer.Decode(tokenizer.Encode("hello<new>world", addSpecialTokens: false).Ids));
        Assert.Equal("hello world", tokenizer.Decode(tokenizer.Encode("[CLS] hello world [SEP]", addSpecialTokens: false).Ids, skipSpecialTokens: true));
    }

    [Fact]
    public void ConfigSpecialTokensOutsideTheVocabularyAreAdded()
    {
        using var dir = Fixtures.TempDir();
        var tokenizer = BertWith(dir, "[]", """{"do_lower_case": true, "additional_special_tokens": ["<extra>"], "bos_token": "<bos>"}""");
        // Named special tokens are resolved first, then the additional ones, each new one taking the next id.
        Assert.Equal(30522, tokenizer.BosTokenId);
        Assert.Equal(30523, tokenizer.TokenToId("<extra>"));
        Assert.Equal(101, tokenizer.ClsTokenId); // BERT's defaults apply since the vocabulary has them
        Assert.Contains(tokenizer.TokenToId("<extra>")!.Value, tokenizer.SpecialTokenIds);
        Assert.Equal([7592, tokenizer.TokenToId("<extra>")!.Value], tokenizer.Encode("hello<extra>", addSpecialTokens: false).Ids);
    }
}
