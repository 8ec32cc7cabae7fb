using System.Text.Json.Nodes;
using PeftSharp.Tokenization;

namespace PeftSharp.Tests.Tokenization;

/// <summary>
/// tokenizer.json layouts of other families, made from the real vocabularies the way Hugging Face makes them, must
/// tokenize exactly like the original: Llama-2's (BPE with byte fallback, converted from a SentencePiece model as
/// transformers' LlamaConverter does) and Llama-3 / Qwen2's (byte-level BPE behind a Split regex pre-tokenizer).
/// </summary>
public class ConvertedTokenizerJsonTests
{
    static readonly string ModelPath = Fixtures.Shared("models", "stories260K", "tokenizer.model");
    static readonly string Gpt2Dir = Fixtures.Shared("adapters", "gpt2-lora-causal-lm");

    /// <summary>
    /// Writes the tokenizer.json transformers makes from a Llama SentencePiece model: the pieces as the BPE
    /// vocabulary, merges of every pair of pieces that forms a piece ranked by that piece's score, byte fallback.
    /// </summary>
    static string ConvertLlama(TempDirectory dir)
    {
        var proto = SentencePieceProto.Parse(File.ReadAllBytes(ModelPath), ModelPath);
        var vocab = proto.Pieces.Select((p, id) => (p.Text, id)).ToDictionary(p => p.Text, p => p.id);
        var merges = new List<(string Left, string Right, float Score, int LeftId, int RightId)>();
        foreach (var piece in proto.Pieces)
            for (int split = 1; split < piece.Text.Length; split++)
            {
                string left = piece.Text[..split], right = piece.Text[split..];
                if (vocab.TryGetValue(left, out int l) && vocab.TryGetValue(right, out int r)) merges.Add((left, right, piece.Score, l, r));
            }
        var ranked = merges.OrderByDescending(m => m.Score).ThenBy(m => m.LeftId).ThenBy(m => m.RightId).ToList();

        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(proto.Pieces.Select((p, id) => (p, id)).Where(x => x.p.Type is SentencePieceProto.PieceType.Control or SentencePieceProto.PieceType.Unknown)
                .Select(x => (JsonNode)new JsonObject { ["id"] = x.id, ["content"] = x.p.Text, ["special"] = true, ["normalized"] = false }).ToArray()),
            ["normalizer"] = JsonNode.Parse("""{"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}"""),
            ["pre_tokenizer"] = null,
            ["post_processor"] = JsonNode.Parse("""
                {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                 "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                 "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
                """),
            ["decoder"] = JsonNode.Parse("""
                {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
                """),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = "<unk>", ["continuing_subword_prefix"] = null, ["end_of_word_suffix"] = null,
                ["fuse_unk"] = true, ["byte_fallback"] = true, ["ignore_merges"] = false,
                ["vocab"] = new JsonObject(vocab.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                ["merges"] = new JsonArray(ranked.Select(m => (JsonNode)new JsonArray(m.Left, m.Right)).ToArray()),
            },
        };
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
        return dir.File("tokenizer.json");
    }

    [Fact]
    public void LlamaTokenizerJsonMatchesTheSentencePieceModel()
    {
        using var dir = Fixtures.TempDir();
        var fromJson = PretrainedTokenizer.FromTokenizerJson(ConvertLlama(dir));
        var fromModel = PretrainedTokenizer.FromSentencePiece(ModelPath);
        Assert.Equal(TokenizerKind.SentencePieceBpe, fromJson.Kind);
        Assert.Equal((1, 2, 0), (fromJson.BosTokenId, fromJson.EosTokenId, fromJson.UnkTokenId));
        foreach (string line in TextSamples.Lines.Append(TextSamples.All))
        {
            var ids = fromModel.Encode(line).Ids;
            Assert.Equal(ids, fromJson.Encode(line).Ids);
            Assert.Equal(fromModel.Decode(ids), fromJson.Decode(ids));
            Assert.Equal(fromModel.Decode(ids, skipSpecialTokens: true), fromJson.Decode(ids, skipSpecialTokens: true));
        }
        Assert.Equal(fromModel.Encode("Lily", "Ben").TokenTypeIds, fromJson.Encode("Lily", "Ben").TokenTypeIds);
    }

    [Fact]
    public void SplitRegexPreTokenizerMatchesByteLevelRegex()
    {
        // Llama-3 and Qwen2 write the word regex as a Split step before a ByteLevel step that no longer splits, put
        // NFC in front, ignore merges for whole-vocabulary words and add BOS through a Sequence post-processor.
        using var dir = Fixtures.TempDir();
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Gpt2Dir, "tokenizer.json")))!;
        json["normalizer"] = JsonNode.Parse("""{"type": "NFC"}""");
        json["pre_tokenizer"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = TextSplitter.Gpt2Pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                JsonNode.Parse("""{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}""")),
        };
        json["model"]!["ignore_merges"] = true;
        json["post_processor"] = JsonNode.Parse("""
            {"type": "Sequence", "processors": [{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
              {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
               "pair": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
               "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [50256], "tokens": ["<|endoftext|>"]}}}]}
            """);
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());

        var llama3Style = PretrainedTokenizer.FromTokenizerJson(dir.File("tokenizer.json"));
        var gpt2 = PretrainedTokenizer.FromDirectory(Gpt2Dir);
        Assert.Equal([50256, 15496, 995], llama3Style.Encode("Hello world").Ids);
        foreach (string line in TextSamples.Lines.Append(TextSamples.All))
        {
            Assert.Equal(gpt2.Encode(line).Ids, llama3Style.Encode(line, addSpecialTokens: false).Ids);
            Assert.Equal(line, llama3Style.Decode(llama3Style.Encode(line).Ids, skipSpecialTokens: true));
        }
    }
}
