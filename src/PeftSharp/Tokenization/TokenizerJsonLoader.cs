using System.Text.Json;

namespace PeftSharp.Tokenization;

/// <summary>
/// Reads a Hugging Face tokenizer.json (the "tokenizers" library's format): model (WordPiece, BPE, Unigram),
/// normalizer, pre-tokenizer, post-processor, decoder and added tokens.
/// </summary>
/// <remarks>
/// Hand-written: Microsoft.ML.Tokenizers 2.0.1 cannot read tokenizer.json; the vocabulary and merges parsed here
/// are handed to its WordPiece, BPE and SentencePiece tokenizers.
/// </remarks>
static class TokenizerJsonLoader
{
    public const string FileName = "tokenizer.json";

    static readonly TokenizerConfig BertDefaults = new() { UnkToken = "[UNK]", SepToken = "[SEP]", PadToken = "[PAD]", ClsToken = "[CLS]", MaskToken = "[MASK]" };
    static readonly TokenizerConfig Gpt2Defaults = new() { BosToken = "<|endoftext|>", EosToken = "<|endoftext|>", UnkToken = "<|endoftext|>" };
    static readonly TokenizerConfig SentencePieceDefaults = new() { BosToken = "<s>", EosToken = "</s>", UnkToken = "<unk>" };

    /// <exception cref="TokenizerException">Missing file, malformed JSON, unsupported component, inconsistent vocabulary.</exception>
    public static TokenizerDefinition Load(string path, TokenizerConfig config)
    {
        var root = JsonField.ParseFile(path);
        if (root.Kind != JsonValueKind.Object) throw root.Error("must be a JSON object");

        var added = root.Get("added_tokens")?.Items().Select(t => AddedToken.FromJson(t, t.Int("id"))).ToList() ?? [];
        var preTokenizer = root.Get("pre_tokenizer");
        var decoder = root.Get("decoder");
        var model = root.Require("model");
        string type = model.StringOrNull("type") ?? InferModelType(model);

        var normalizer = ReadNormalizer(root.Get("normalizer"), config);
        var splitter = ReadSplitter(preTokenizer, config);
        var postProcessor = TemplateProcessor.FromJson(root.Get("post_processor"));
        var tokenDecoder = TokenDecoder.FromJson(decoder);
        return type switch
        {
            "WordPiece" => new TokenizerDefinition(TokenizerKind.WordPiece, ReadWordPiece(model), normalizer, splitter, tokenDecoder, postProcessor, added, BertDefaults, path),
            "BPE" when UsesByteLevel(preTokenizer) || UsesByteLevel(decoder) =>
                new TokenizerDefinition(TokenizerKind.ByteLevelBpe, ReadBpe(model, byteLevel: true), normalizer, splitter, tokenDecoder, postProcessor, added, Gpt2Defaults, path),
            "BPE" => new TokenizerDefinition(TokenizerKind.SentencePieceBpe, ReadBpe(model, byteLevel: false), normalizer, splitter, tokenDecoder, postProcessor, added, SentencePieceDefaults, path),
            "Unigram" => new TokenizerDefinition(TokenizerKind.Unigram, ReadUnigram(model), normalizer, splitter, tokenDecoder, postProcessor, added, SentencePieceDefaults, path),
            _ => throw model.Require("type").Error($"model type '{type}' is not supported (supported: WordPiece, BPE, Unigram)"),
        };
    }

    // Files written by old versions of the library leave the model untagged.
    static string InferModelType(JsonField model)
    {
        if (model.Has("merges")) return "BPE";
        if (model.Get("vocab") is { Kind: JsonValueKind.Array }) return "Unigram";
        if (model.Has("continuing_subword_prefix") || model.Has("max_input_chars_per_word")) return "WordPiece";
        throw model.Error("has no \"type\" and is not recognisably WordPiece, BPE or Unigram");
    }

    static bool UsesByteLevel(JsonField? node)
    {
        if (node is not { Kind: JsonValueKind.Object } n) return false;
        if (n.StringOrNull("type") == "ByteLevel") return true;
        foreach (string list in new[] { "pretokenizers", "decoders" })
            if (n.Get(list) is { } items && items.Items().Any(item => UsesByteLevel(item))) return true;
        return false;
    }

    /// <summary>transformers' BertTokenizerFast rebuilds the normalizer when tokenizer_config.json disagrees with it.</summary>
    static TextNormalizer? ReadNormalizer(JsonField? node, TokenizerConfig config)
    {
        if (node is { } n && n.StringOrNull("type") == "BertNormalizer")
        {
            return TextNormalizer.Bert(n.Bool("clean_text", true), config.TokenizeChineseChars ?? n.Bool("handle_chinese_chars", true),
                config.StripAccents ?? n.BoolOrNull("strip_accents"), config.DoLowerCase ?? n.Bool("lowercase", true));
        }
        return TextNormalizer.FromJson(node, SentencePieceCharsmap.FromJson);
    }

    /// <summary>transformers' GPT2TokenizerFast likewise rebuilds a ByteLevel pre-tokenizer for add_prefix_space.</summary>
    static TextSplitter ReadSplitter(JsonField? node, TokenizerConfig config)
    {
        if (node is { } n && n.StringOrNull("type") == "ByteLevel" && config.AddPrefixSpace is bool addPrefixSpace)
            return TextSplitter.ByteLevel(addPrefixSpace, n.Bool("use_regex", true));
        return TextSplitter.FromJson(node);
    }

    static WordPieceModel ReadWordPiece(JsonField model)
    {
        var vocab = model.Require("vocab");
        var entries = vocab.Properties().ToList();
        var tokens = new string?[entries.Count];
        foreach (var (token, idNode) in entries)
        {
            int id = idNode.AsInt();
            if (id < 0 || id >= tokens.Length) throw idNode.Error($"id {id} is outside 0..{tokens.Length - 1}; WordPiece ids must be contiguous");
            if (tokens[id] is not null) throw idNode.Error($"id {id} is used by both '{tokens[id]}' and '{token}'");
            tokens[id] = token;
        }
        return new WordPieceModel(tokens, model.String("unk_token", "[UNK]"), model.String("continuing_subword_prefix", "##"),
            model.Int("max_input_chars_per_word", 100), model.File, vocab.Path);
    }

    static BpeModel ReadBpe(JsonField model, bool byteLevel)
    {
        foreach (string affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (model.StringOrNull(affix) is { Length: > 0 } value)
                throw model.Require(affix).Error($"BPE with a {affix} ('{value}') is not supported");

        var vocabNode = model.Require("vocab");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, id) in vocabNode.Properties()) vocab[token] = id.AsInt();

        var mergesNode = model.Get("merges");
        var merges = new List<(string, string)>();
        foreach (var merge in mergesNode?.Items() ?? [])
        {
            // Written as "left right" by older versions, as ["left", "right"] by newer ones.
            if (merge.Kind == JsonValueKind.String)
            {
                string text = merge.AsString();
                int space = text.IndexOf(' ');
                if (space <= 0 || space != text.LastIndexOf(' ') || space == text.Length - 1) throw merge.Error($"must be two tokens separated by one space, found \"{text}\"");
                merges.Add((text[..space], text[(space + 1)..]));
            }
            else
            {
                var pair = merge.Items().ToList();
                if (pair.Count != 2) throw merge.Error("must be a pair of tokens");
                merges.Add((pair[0].AsString(), pair[1].AsString()));
            }
        }
        string mergesPath = mergesNode?.Path ?? "model.merges";
        return new BpeModel(vocab, merges, byteLevel, model.StringOrNull("unk_token"), model.Bool("fuse_unk", false),
            model.Bool("byte_fallback", false), model.Bool("ignore_merges", false), model.File, vocabNode.Path,
            i => $"field '{mergesPath}[{i}]'");
    }

    /// <summary>A Unigram model is handed to Microsoft.ML.Tokenizers as a SentencePiece model built from its pieces and scores.</summary>
    static SentencePieceModel ReadUnigram(JsonField model)
    {
        var vocab = model.Require("vocab");
        bool byteFallback = model.Bool("byte_fallback", false);
        int? unkId = model.Get("unk_id")?.AsInt();
        var proto = new SentencePieceProto
        {
            Model = SentencePieceProto.ModelKind.Unigram,
            ByteFallback = byteFallback,
            // Hugging Face's Unigram has no BOS/EOS of its own: the template adds them.
            UnknownId = unkId ?? 0,
            BosId = -1,
            EosId = -1,
            AddDummyPrefix = false,
            RemoveExtraWhitespaces = false,
            EscapeWhitespaces = false,
        };
        foreach (var entry in vocab.Items())
        {
            var pair = entry.Items().ToList();
            if (pair.Count != 2) throw entry.Error("must be [piece, score]");
            string piece = pair[0].AsString();
            var pieceType = proto.Pieces.Count == unkId ? SentencePieceProto.PieceType.Unknown
                : byteFallback && piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>' ? SentencePieceProto.PieceType.Byte
                : SentencePieceProto.PieceType.Normal;
            proto.Pieces.Add(new SentencePieceProto.Piece(piece, (float)pair[1].AsDouble(), pieceType));
        }
        if (proto.Pieces.Count == 0) throw vocab.Error("the vocabulary is empty");
        if (unkId is int u && (u < 0 || u >= proto.Pieces.Count)) throw model.Require("unk_id").Error($"id {u} is outside the {proto.Pieces.Count} pieces");
        return new SentencePieceModel(proto, model.File);
    }
}
