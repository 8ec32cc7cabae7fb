using PeftSharp.Tokenization;

namespace PeftSharp.Tests.Tokenization;

/// <summary>Bad input fails with a <see cref="TokenizerException"/> naming the file and the field.</summary>
public class TokenizerErrorTests
{
    static readonly string Gpt2Dir = Fixtures.Shared("adapters", "gpt2-lora-causal-lm");
    static readonly string BertDir = Fixtures.Shared("adapters", "bert-base-lora-seq-cls");

    static TokenizerException Fails(Action action, params string[] fragments)
    {
        var e = Assert.Throws<TokenizerException>(action);
        foreach (string fragment in fragments) Assert.Contains(fragment, e.Message);
        return e;
    }

    /// <summary>GPT-2's tokenizer.json with one part replaced, written to <paramref name="dir"/>.</summary>
    static string EditedGpt2Json(TempDirectory dir, Func<string, string> edit)
    {
        string path = dir.File("tokenizer.json");
        File.WriteAllText(path, edit(File.ReadAllText(Path.Combine(Gpt2Dir, "tokenizer.json"))));
        return path;
    }

    [Fact]
    public void MissingFiles()
    {
        using var dir = Fixtures.TempDir();
        Fails(() => PretrainedTokenizer.FromDirectory(dir.Path), dir.Path, "no tokenizer found", "tokenizer.json", "vocab.txt");
        Fails(() => PretrainedTokenizer.FromDirectory(dir.File("absent")), "directory not found");
        Fails(() => PretrainedTokenizer.FromTokenizerJson(dir.File("tokenizer.json")), "tokenizer.json", "file not found");
        Fails(() => PretrainedTokenizer.FromSentencePiece(dir.File("tokenizer.model")), "tokenizer.model", "file not found");
        Fails(() => PretrainedTokenizer.FromBpeFiles(Path.Combine(Gpt2Dir, "vocab.json"), dir.File("merges.txt")), "merges.txt", "file not found");
    }

    [Fact]
    public void MalformedJson()
    {
        using var dir = Fixtures.TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {");
        Fails(() => PretrainedTokenizer.FromDirectory(dir.Path), dir.File("tokenizer.json"), "not valid JSON");
        File.WriteAllText(dir.File("tokenizer.json"), "[1, 2]");
        Fails(() => PretrainedTokenizer.FromDirectory(dir.Path), "must be a JSON object");
        File.WriteAllText(dir.File("tokenizer.json"), "{\"version\": \"1.0\"}");
        Fails(() => PretrainedTokenizer.FromDirectory(dir.Path), "field 'model'", "is missing");
    }

    [Fact]
    public void UnknownModelAndComponentTypes()
    {
        using var dir = Fixtures.TempDir();
        string path = EditedGpt2Json(dir, json => json.Replace("\"type\": \"BPE\"", "\"type\": \"WordLevel\"").Replace("\"type\":\"BPE\"", "\"type\":\"WordLevel\""));
        Fails(() => PretrainedTokenizer.FromTokenizerJson(path), path, "field 'model.type'", "'WordLevel'");

        File.WriteAllText(path, """{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1}}, "pre_tokenizer": {"type": "UnicodeScripts"}}""");
        Fails(() => PretrainedTokenizer.FromTokenizerJson(path), "field 'pre_tokenizer.type'", "UnicodeScripts");
        File.WriteAllText(path, """{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1}}, "normalizer": {"type": "Sequence", "normalizers": [{"type": "Nmt"}]}}""");
        Fails(() => PretrainedTokenizer.FromTokenizerJson(path), "field 'normalizer.normalizers[0].type'", "Nmt");
        File.WriteAllText(path, """{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1}}, "decoder": {"type": "CTC"}}""");
        Fails(() => PretrainedTokenizer.FromTokenizerJson(path), "field 'decoder.type'", "CTC");
    }

    [Fact]
    public void VocabularyReferencingUnknownTokens()
    {
        using var dir = Fixtures.TempDir();
        string path = dir.File("tokenizer.json");
        File.WriteAllText(path, """{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", "a c"]}}""");
        Fails(() => PretrainedTokenizer.FromTokenizerJson(path), path, "model.merges[1]", "'c'");
        File.WriteAllText(path, """{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}}""");
        Fails(() => PretrainedTokenizer.FromTokenizerJson(path), "model.merges[0]", "'ab'");
        File.WriteAllText(path, """{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "unk_token": "<unk>"}}""");
        Fails(() => PretrainedTokenizer.FromTokenizerJson(path), "model.vocab", "'<unk>'");
        File.WriteAllText(path, """{"model": {"type": "WordPiece", "vocab": {"a": 0, "b": 1}}}""");
        Fails(() => PretrainedTokenizer.FromTokenizerJson(path), "model.vocab", "'[UNK]'");
        File.WriteAllText(path, """{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "b": 5}}}""");
        Fails(() => PretrainedTokenizer.FromTokenizerJson(path), "model.vocab.b", "id 5");
        File.WriteAllText(path, """
            {"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1}},
             "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                                "pair": [], "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [101], "tokens": ["[CLS]"]}}}}
            """);
        Fails(() => PretrainedTokenizer.FromTokenizerJson(path), "post_processor", "101");
        File.WriteAllText(path, """
            {"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1}},
             "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}], "pair": [], "special_tokens": {}}}
            """);
        Fails(() => PretrainedTokenizer.FromTokenizerJson(path), "post_processor.single[0].SpecialToken.id", "[CLS]");

        string merges = dir.File("merges.txt");
        File.WriteAllLines(merges, ["#version: 0.2", "Ġ t", "zzzq zzzr"]);
        Fails(() => PretrainedTokenizer.FromBpeFiles(Path.Combine(Gpt2Dir, "vocab.json"), merges), "merges.txt line 3", "'zzzq'");
        File.WriteAllLines(merges, ["#version: 0.2", "Ġt"]);
        Fails(() => PretrainedTokenizer.FromBpeFiles(Path.Combine(Gpt2Dir, "vocab.json"), merges), "merges.txt: line 2", "two tokens");
        File.WriteAllLines(dir.File("vocab.txt"), ["[PAD]", "[UNK]", "hello"]);
        Fails(() => PretrainedTokenizer.FromWordPieceVocab(dir.File("vocab.txt")), "vocab.txt", "cls_token", "[CLS]");
    }

    [Fact]
    public void WrongValueTypes()
    {
        using var dir = Fixtures.TempDir();
        string path = EditedGpt2Json(dir, json => json.Replace("\"byte_fallback\": false", "\"byte_fallback\": \"no\"").Replace("\"byte_fallback\":false", "\"byte_fallback\":\"no\""));
        Fails(() => PretrainedTokenizer.FromTokenizerJson(path), "field 'model.byte_fallback'", "true or false");
        File.WriteAllText(path, """{"model": {"type": "BPE", "vocab": {"a": "zero"}, "merges": []}}""");
        Fails(() => PretrainedTokenizer.FromTokenizerJson(path), "field 'model.vocab.a'", "integer");
        File.WriteAllText(path, """{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "added_tokens": [{"content": "x"}]}""");
        Fails(() => PretrainedTokenizer.FromTokenizerJson(path), "field 'added_tokens[0].id'", "is missing");
        File.WriteAllText(path, """{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "a++"}, "behavior": "Isolated"}}""");
        Fails(() => PretrainedTokenizer.FromTokenizerJson(path), "field 'pre_tokenizer.pattern.Regex'", "regular expression");
    }

    [Fact]
    public void BadTokenizerConfig()
    {
        using var dir = Fixtures.TempDir();
        File.Copy(Path.Combine(BertDir, "tokenizer.json"), dir.File("tokenizer.json"));
        File.WriteAllText(dir.File("tokenizer_config.json"), """{"padding_side": "middle"}""");
        Fails(() => PretrainedTokenizer.FromDirectory(dir.Path), "tokenizer_config.json", "field 'padding_side'", "\"middle\"");
        File.WriteAllText(dir.File("tokenizer_config.json"), """{"added_tokens_decoder": {"first": {"content": "x"}}}""");
        Fails(() => PretrainedTokenizer.FromDirectory(dir.Path), "field 'added_tokens_decoder.first'", "id");
        File.WriteAllText(dir.File("tokenizer_config.json"), """{"bos_token": {"lstrip": false}}""");
        Fails(() => PretrainedTokenizer.FromDirectory(dir.Path), "field 'bos_token.content'", "is missing");
        File.WriteAllText(dir.File("tokenizer_config.json"), "{");
        Fails(() => PretrainedTokenizer.FromDirectory(dir.Path), "tokenizer_config.json", "not valid JSON");
        File.WriteAllText(dir.File("tokenizer_config.json"), "{}");
        File.WriteAllText(dir.File("special_tokens_map.json"), """{"pad_token": 0}""");
        Fails(() => PretrainedTokenizer.FromDirectory(dir.Path), "special_tokens_map.json", "field 'pad_token'", "string");
    }

    [Fact]
    public void BadSentencePieceModels()
    {
        byte[] model = File.ReadAllBytes(Fixtures.Shared("models", "stories260K", "tokenizer.model"));
        Fails(() => PretrainedTokenizer.FromSentencePiece(model[..(model.Length / 2)], source: "half.model"), "half.model", "truncated");
        Fails(() => PretrainedTokenizer.FromSentencePiece("{\"not\": \"protobuf\"}"u8.ToArray(), source: "json.model"), "json.model");
        Fails(() => PretrainedTokenizer.FromSentencePiece(Array.Empty<byte>(), source: "empty.model"), "empty.model", "pieces");

        var proto = new SentencePieceProto { Model = SentencePieceProto.ModelKind.Bpe, ByteFallback = true, BosId = -1, EosId = -1 };
        proto.Pieces.Add(new SentencePieceProto.Piece("<unk>", 0, SentencePieceProto.PieceType.Unknown));
        proto.Pieces.Add(new SentencePieceProto.Piece("a", 0, SentencePieceProto.PieceType.Normal));
        Fails(() => PretrainedTokenizer.FromSentencePiece(proto.ToBytes(), source: "nobytes.model"), "nobytes.model", "trainer_spec.byte_fallback");
        proto.ByteFallback = false;
        proto.Model = SentencePieceProto.ModelKind.Word;
        Fails(() => PretrainedTokenizer.FromSentencePiece(proto.ToBytes(), source: "word.model"), "trainer_spec.model_type", "WORD");
        proto.Model = SentencePieceProto.ModelKind.Bpe;
        proto.EosId = 7;
        Fails(() => PretrainedTokenizer.FromSentencePiece(proto.ToBytes(), source: "eos.model"), "trainer_spec.eos_id", "7");
    }

    [Fact]
    public void TruncatedAndRandomInputOnlyEverThrowsTokenizerException()
    {
        var random = new Random(1234);
        byte[] model = File.ReadAllBytes(Fixtures.Shared("models", "stories260K", "tokenizer.model"));
        var inputs = new List<byte[]>();
        for (int i = 1; i <= 40; i++) inputs.Add(model[..(model.Length * i / 41)]);
        for (int i = 0; i < 60; i++)
        {
            var noise = new byte[random.Next(1, 400)];
            random.NextBytes(noise);
            inputs.Add(noise);
            var flipped = (byte[])model.Clone();
            for (int j = 0; j < 8; j++) flipped[random.Next(flipped.Length)] = (byte)random.Next(256);
            inputs.Add(flipped);
        }
        foreach (var bytes in inputs)
        {
            try
            {
                PretrainedTokenizer.FromSentencePiece(bytes, source: "fuzz.model").Encode("Once upon a time");
            }
            catch (TokenizerException)
            {
            }
        }

        using var dir = Fixtures.TempDir();
        string json = File.ReadAllText(Fixtures.Shared("adapters", "bert-base-lora-seq-cls", "tokenizer.json"));
        foreach (int length in new[] { 0, 1, 10, 100, 1000, json.Length / 2, json.Length - 2 })
        {
            File.WriteAllText(dir.File("tokenizer.json"), json[..length]);
            Fails(() => PretrainedTokenizer.FromTokenizerJson(dir.File("tokenizer.json")), "tokenizer.json");
        }
    }

    [Fact]
    public void ImplausibleIdsAreRejected()
    {
        using var dir = Fixtures.TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), """{"model": {"type": "BPE", "vocab": {"a": 0, "b": 2000000000}, "merges": []}}""");
        Fails(() => PretrainedTokenizer.FromTokenizerJson(dir.File("tokenizer.json")), "tokenizer.json", "implausibly large");
    }
}
