using System.Text.Json;

namespace PeftSharp.Tokenization;

/// <summary>
/// The settings Hugging Face keeps beside the vocabulary, in tokenizer_config.json and special_tokens_map.json:
/// special tokens, added tokens, casing, BOS/EOS insertion, padding side and the model's maximum length.
/// Every field is optional; null means "not set", and the tokenizer falls back to its family's default.
/// </summary>
/// <remarks>
/// Also built by hand for vocabularies that come without these files, e.g. a SentencePiece model taken from a
/// GGUF file: <c>new TokenizerConfig { BosToken = "&lt;s&gt;", EosToken = "&lt;/s&gt;", AddBosToken = true }</c>.
/// </remarks>
public sealed record TokenizerConfig
{
    /// <summary>File name of the main settings file.</summary>
    public const string FileName = "tokenizer_config.json";

    /// <summary>File name of the special-token map, whose entries take precedence (as in transformers).</summary>
    public const string SpecialTokensMapFileName = "special_tokens_map.json";

    public string? BosToken { get; init; }
    public string? EosToken { get; init; }
    public string? UnkToken { get; init; }
    public string? PadToken { get; init; }
    public string? ClsToken { get; init; }
    public string? SepToken { get; init; }
    public string? MaskToken { get; init; }

    /// <summary>Further special tokens ("additional_special_tokens").</summary>
    public IReadOnlyList<string> AdditionalSpecialTokens { get; init; } = [];

    /// <summary>Tokens with fixed ids and matching rules ("added_tokens_decoder").</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; init; } = [];

    /// <summary>BERT: lower-case the text ("do_lower_case").</summary>
    public bool? DoLowerCase { get; init; }

    /// <summary>BERT: strip accents ("strip_accents"); null follows <see cref="DoLowerCase"/>.</summary>
    public bool? StripAccents { get; init; }

    /// <summary>BERT: put spaces around CJK ideographs ("tokenize_chinese_chars").</summary>
    public bool? TokenizeChineseChars { get; init; }

    /// <summary>SentencePiece families: put BOS before each sequence ("add_bos_token").</summary>
    public bool? AddBosToken { get; init; }

    /// <summary>SentencePiece families: put EOS after each sequence ("add_eos_token").</summary>
    public bool? AddEosToken { get; init; }

    /// <summary>Byte-level BPE: a space before the first word; SentencePiece: the "▁" dummy prefix ("add_prefix_space").</summary>
    public bool? AddPrefixSpace { get; init; }

    /// <summary>SentencePiece: Llama's "legacy" handling of the text after special tokens (default true).</summary>
    public bool? Legacy { get; init; }

    public PaddingSide? PaddingSide { get; init; }
    public TruncationSide? TruncationSide { get; init; }

    /// <summary>The longest input the model takes ("model_max_length"); null when unset or Hugging Face's "very large" sentinel.</summary>
    public int? ModelMaxLength { get; init; }

    /// <summary>Remove spaces before punctuation when decoding ("clean_up_tokenization_spaces").</summary>
    public bool? CleanUpTokenizationSpaces { get; init; }

    /// <summary>The transformers class named by the file ("tokenizer_class"), for information.</summary>
    public string? TokenizerClass { get; init; }

    /// <summary>A config with nothing set.</summary>
    public static TokenizerConfig Empty { get; } = new();

    /// <summary>Reads tokenizer_config.json and special_tokens_map.json from <paramref name="directory"/>; absent files count as empty.</summary>
    /// <exception cref="TokenizerException">A file exists but is malformed.</exception>
    public static TokenizerConfig FromDirectory(string directory)
    {
        string config = Path.Combine(directory, FileName), map = Path.Combine(directory, SpecialTokensMapFileName);
        return FromFiles(File.Exists(config) ? config : null, File.Exists(map) ? map : null);
    }

    /// <summary>Reads the given files (either may be null).</summary>
    /// <exception cref="TokenizerException">A file is missing or malformed.</exception>
    public static TokenizerConfig FromFiles(string? tokenizerConfigPath, string? specialTokensMapPath)
    {
        var result = Empty;
        if (tokenizerConfigPath is not null) result = Read(JsonField.ParseFile(tokenizerConfigPath), result, full: true);
        if (specialTokensMapPath is not null) result = Read(JsonField.ParseFile(specialTokensMapPath), result, full: false);
        return result;
    }

    static readonly string[] SpecialKeys = ["bos_token", "eos_token", "unk_token", "pad_token", "cls_token", "sep_token", "mask_token"];

    /// <summary>Applies the fields of <paramref name="root"/> on top of <paramref name="baseConfig"/>.</summary>
    static TokenizerConfig Read(JsonField root, TokenizerConfig baseConfig, bool full)
    {
        if (root.Kind != JsonValueKind.Object) throw root.Error("must be a JSON object");
        var special = SpecialKeys.ToDictionary(key => key, key => root.Get(key) is { } value ? TokenContent(value) : null);
        var additional = root.Get("additional_special_tokens")?.Items().Select(TokenContent).ToList();
        if (root.Get("extra_special_tokens") is { Kind: JsonValueKind.Object } extra)
        {
            additional ??= [.. baseConfig.AdditionalSpecialTokens];
            foreach (var (_, value) in extra.Properties())
                additional.AddRange(value.Kind == JsonValueKind.Array ? value.Items().Select(TokenContent) : [TokenContent(value)]);
        }

        var config = baseConfig with
        {
            BosToken = special["bos_token"] ?? baseConfig.BosToken,
            EosToken = special["eos_token"] ?? baseConfig.EosToken,
            UnkToken = special["unk_token"] ?? baseConfig.UnkToken,
            PadToken = special["pad_token"] ?? baseConfig.PadToken,
            ClsToken = special["cls_token"] ?? baseConfig.ClsToken,
            SepToken = special["sep_token"] ?? baseConfig.SepToken,
            MaskToken = special["mask_token"] ?? baseConfig.MaskToken,
            AdditionalSpecialTokens = additional?.Distinct().ToList() ?? baseConfig.AdditionalSpecialTokens,
        };
        if (!full) return config;

        return config with
        {
            AddedTokens = root.Get("added_tokens_decoder")?.Properties().Select(p => AddedToken.FromJson(p.Value, ParseId(p.Name, p.Value))).ToList() ?? [],
            DoLowerCase = root.BoolOrNull("do_lower_case"),
            StripAccents = root.BoolOrNull("strip_accents"),
            TokenizeChineseChars = root.BoolOrNull("tokenize_chinese_chars"),
            AddBosToken = root.BoolOrNull("add_bos_token"),
            AddEosToken = root.BoolOrNull("add_eos_token"),
            AddPrefixSpace = root.BoolOrNull("add_prefix_space"),
            Legacy = root.BoolOrNull("legacy"),
            PaddingSide = root.Get("padding_side") is { } p ? ParseSide(p) == "left" ? Tokenization.PaddingSide.Left : Tokenization.PaddingSide.Right : null,
            TruncationSide = root.Get("truncation_side") is { } t ? ParseSide(t) == "left" ? Tokenization.TruncationSide.Left : Tokenization.TruncationSide.Right : null,
            ModelMaxLength = root.Get("model_max_length") is { } m ? ParseMaxLength(m) : null,
            CleanUpTokenizationSpaces = root.BoolOrNull("clean_up_tokenization_spaces"),
            TokenizerClass = root.StringOrNull("tokenizer_class"),
        };
    }

    /// <summary>A special token is written as a string or as an added-token object {"content": ...}.</summary>
    static string TokenContent(JsonField value) => value.Kind == JsonValueKind.Object ? value.String("content") : value.AsString();

    static int ParseId(string key, JsonField value) =>
        int.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id)
            ? id
            : throw value.Error($"the key of an added token must be its id, found \"{key}\"");

    static string ParseSide(JsonField value) => value.AsString() is "left" or "right"
        ? value.AsString()
        : throw value.Error($"must be \"left\" or \"right\", found \"{value.AsString()}\"");

    // transformers writes int(1e30) when a model has no limit.
    static int? ParseMaxLength(JsonField value)
    {
        double length = value.AsDouble();
        if (length < 1 || length != Math.Floor(length)) throw value.Error($"must be a positive integer, found {length}");
        return length > int.MaxValue ? null : (int)length;
    }
}
