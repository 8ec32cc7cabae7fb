using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using PeftSharp.IO;

namespace PeftSharp.Tokenization.Training;

/// <summary>Hugging Face's tokenizer files for a <see cref="TrainedTokenizer"/>, laid out as the tokenizers library writes them.</summary>
static class TokenizerFileWriter
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(TrainedTokenizer tokenizer, string directory)
    {
        bool byteLevel = tokenizer.Kind == TokenizerKind.ByteLevelBpe;
        var specials = tokenizer.SpecialTokens.Values.Concat(tokenizer.AdditionalSpecialTokens).Distinct().ToList();
        var ids = tokenizer.Vocabulary.Select((token, id) => (token, id)).ToDictionary(p => p.token, p => p.id, StringComparer.Ordinal);

        var vocab = new JsonObject();
        foreach (var (token, id) in tokenizer.Vocabulary.Select((t, i) => (t, i))) vocab[token] = id;
        var added = new JsonArray(specials.OrderBy(s => ids[s]).Select(s => (JsonNode)AddedToken(s, ids[s])).ToArray());

        var model = byteLevel
            ? new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null, ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false, ["vocab"] = vocab,
                ["merges"] = new JsonArray(tokenizer.Merges.Select(m => (JsonNode)new JsonArray(m.Left, m.Right)).ToArray()),
            }
            : new JsonObject
            {
                ["type"] = "WordPiece", ["unk_token"] = tokenizer.SpecialTokens["unk"], ["continuing_subword_prefix"] = "##",
                ["max_input_chars_per_word"] = 100, ["vocab"] = vocab,
            };
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = byteLevel ? null : new JsonObject
            {
                ["type"] = "BertNormalizer", ["clean_text"] = true, ["handle_chinese_chars"] = true, ["strip_accents"] = null, ["lowercase"] = tokenizer.Lowercase,
            },
            ["pre_tokenizer"] = byteLevel ? ByteLevel(tokenizer.AddPrefixSpace, trimOffsets: true) : new JsonObject { ["type"] = "BertPreTokenizer" },
            ["post_processor"] = byteLevel ? ByteLevel(true, trimOffsets: false) : BertTemplate(tokenizer, ids),
            ["decoder"] = byteLevel ? ByteLevel(true, trimOffsets: true) : new JsonObject { ["type"] = "WordPiece", ["prefix"] = "##", ["cleanup"] = true },
            ["model"] = model,
        };
        AtomicFile.WriteText(Path.Combine(directory, "tokenizer.json"), root.ToJsonString(Json));

        if (byteLevel)
        {
            AtomicFile.WriteText(Path.Combine(directory, VocabFileLoader.BpeVocabFile), vocab.ToJsonString(Json));
            var merges = new StringBuilder("#version: 0.2\n");
            foreach (var (left, right) in tokenizer.Merges) merges.Append(left).Append(' ').Append(right).Append('\n');
            AtomicFile.WriteText(Path.Combine(directory, VocabFileLoader.BpeMergesFile), merges.ToString());
        }
        else
        {
            AtomicFile.WriteText(Path.Combine(directory, VocabFileLoader.WordPieceVocabFile), string.Concat(tokenizer.Vocabulary.Select(t => t + "\n")));
        }

        var map = new JsonObject();
        foreach (var (role, token) in tokenizer.SpecialTokens.OrderBy(p => p.Key, StringComparer.Ordinal)) map[$"{role}_token"] = token;
        if (tokenizer.AdditionalSpecialTokens.Count > 0)
            map["additional_special_tokens"] = new JsonArray(tokenizer.AdditionalSpecialTokens.Select(t => (JsonNode)t).ToArray());
        AtomicFile.WriteText(Path.Combine(directory, TokenizerConfig.SpecialTokensMapFileName), map.ToJsonString(Json));

        var config = (JsonObject)map.DeepClone();
        var decoder = new JsonObject();
        foreach (string special in specials.OrderBy(s => ids[s])) decoder[ids[special].ToString()] = AddedToken(special, null);
        config["added_tokens_decoder"] = decoder;
        config["clean_up_tokenization_spaces"] = !byteLevel;
        if (byteLevel) config["add_prefix_space"] = tokenizer.AddPrefixSpace;
        else
        {
            config["do_lower_case"] = tokenizer.Lowercase;
            config["tokenize_chinese_chars"] = true;
        }
        if (tokenizer.ModelMaxLength is int max) config["model_max_length"] = max;
        config["tokenizer_class"] = byteLevel ? "GPT2Tokenizer" : "BertTokenizer";
        AtomicFile.WriteText(Path.Combine(directory, TokenizerConfig.FileName), config.ToJsonString(Json));
    }

    static JsonObject AddedToken(string content, int? id)
    {
        var token = new JsonObject();
        if (id is int i) token["id"] = i;
        token["content"] = content;
        token["single_word"] = false;
        token["lstrip"] = false;
        token["rstrip"] = false;
        token["normalized"] = false;
        token["special"] = true;
        return token;
    }

    static JsonObject ByteLevel(bool addPrefixSpace, bool trimOffsets) => new()
    {
        ["type"] = "ByteLevel", ["add_prefix_space"] = addPrefixSpace, ["trim_offsets"] = trimOffsets, ["use_regex"] = true,
    };

    /// <summary>BERT's template: [CLS] A [SEP] and [CLS] A [SEP] B:1 [SEP]:1.</summary>
    static JsonObject BertTemplate(TrainedTokenizer tokenizer, Dictionary<string, int> ids)
    {
        string cls = tokenizer.SpecialTokens["cls"], sep = tokenizer.SpecialTokens["sep"];
        JsonObject Special(string token, int type) => new() { ["SpecialToken"] = new JsonObject { ["id"] = token, ["type_id"] = type } };
        JsonObject Sequence(string id, int type) => new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = type } };
        JsonObject Entry(string token) => new() { ["id"] = token, ["ids"] = new JsonArray(ids[token]), ["tokens"] = new JsonArray(token) };
        return new JsonObject
        {
            ["type"] = "TemplateProcessing",
            ["single"] = new JsonArray(Special(cls, 0), Sequence("A", 0), Special(sep, 0)),
            ["pair"] = new JsonArray(Special(cls, 0), Sequence("A", 0), Special(sep, 0), Sequence("B", 1), Special(sep, 1)),
            ["special_tokens"] = new JsonObject { [cls] = Entry(cls), [sep] = Entry(sep) },
        };
    }
}
