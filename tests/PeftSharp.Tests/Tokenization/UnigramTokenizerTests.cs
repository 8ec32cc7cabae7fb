using PeftSharp.Tokenization;

namespace PeftSharp.Tests.Tokenization;

/// <summary>A small Unigram tokenizer.json (the T5/ALBERT model type), encoded by Microsoft.ML.Tokenizers' SentencePiece Unigram.</summary>
public class UnigramTokenizerTests
{
    const string Json = """
        {
          "added_tokens": [{"id": 0, "content": "<unk>", "special": true, "normalized": false},
                           {"id": 1, "content": "</s>", "special": true, "normalized": false}],
          "normalizer": {"type": "Sequence", "normalizers": [{"type": "Lowercase"}]},
          "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
          "post_processor": {"type": "TemplateProcessing",
            "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}},
          "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
          "model": {"type": "Unigram", "unk_id": 0, "vocab": [
            ["<unk>", 0.0], ["</s>", 0.0], ["▁", -3.0], ["▁hello", -2.0], ["▁world", -2.5], ["▁he", -4.0], ["llo", -4.0],
            ["h", -6.0], ["e", -6.0], ["l", -6.0], ["o", -6.0], ["w", -6.0], ["r", -6.0], ["d", -6.0], ["▁wor", -3.5], ["ld", -3.5]]}
        }
        """;

    [Fact]
    public void EncodesByBestScoreAndDecodes()
    {
        using var dir = Fixtures.TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), Json);
        var tokenizer = PretrainedTokenizer.FromDirectory(dir.Path);
        Assert.Equal(TokenizerKind.Unigram, tokenizer.Kind);
        // "▁hello" (-2) beats "▁he"+"llo" (-8); "▁world" (-2.5) beats "▁wor"+"ld" (-7).
        Assert.Equal([3, 4, 1], tokenizer.Encode("Hello World").Ids);
        Assert.Equal(["▁hello", "▁", "▁hello"], tokenizer.Tokenize("hello  hello"));
        Assert.Equal([2, 0], tokenizer.Encode("z", addSpecialTokens: false).Ids);
        Assert.Equal("hello world", tokenizer.Decode(tokenizer.Encode("Hello World").Ids, skipSpecialTokens: true));
        Assert.Equal(1, tokenizer.EosTokenId);
    }
}
