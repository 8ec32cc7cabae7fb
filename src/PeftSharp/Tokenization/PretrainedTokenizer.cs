using static TorchSharp.torch;

namespace PeftSharp.Tokenization;

/// <summary>
/// A Hugging Face-compatible tokenizer: BERT's WordPiece, byte-level BPE (GPT-2, Llama-3, Qwen2) and
/// SentencePiece BPE with byte fallback (Llama-2, Mistral), loaded from a model directory as transformers'
/// AutoTokenizer loads it, and producing the same ids, token type ids, padding and decoded text as its fast tokenizers.
/// </summary>
/// <remarks>
/// The pipeline is Hugging Face's: added tokens are cut out of the raw text, each remaining piece is normalized and
/// split into words, each word is encoded by the model (Microsoft.ML.Tokenizers' WordPiece, BPE or SentencePiece
/// tokenizer built from the parsed vocabulary), and the post-processor adds the special tokens.
/// </remarks>
public sealed class PretrainedTokenizer
{
    readonly TokenModel _model;
    readonly TextNormalizer? _normalizer;
    readonly TextSplitter _splitter;
    readonly TokenDecoder _decoder;
    readonly TemplateProcessor _template;
    readonly AddedTokenMatcher _rawMatcher, _normalizedMatcher;
    readonly string?[] _idToToken;
    readonly Dictionary<string, int> _tokenToId;
    readonly HashSet<int> _specialIds;
    readonly Dictionary<string, (string Token, int Id)> _special;
    string? _padToken;

    PretrainedTokenizer(TokenizerDefinition definition, TokenizerConfig config)
    {
        Kind = definition.Kind;
        Source = definition.Source;
        _model = definition.Model;
        _normalizer = definition.Normalizer;
        _splitter = definition.Splitter;
        _decoder = definition.Decoder;

        var vocabulary = new TokenVocabulary(definition, config);
        _idToToken = vocabulary.IdToToken;
        _tokenToId = vocabulary.TokenToId;
        _specialIds = vocabulary.SpecialIds;
        _special = vocabulary.SpecialTokens;
        AddedTokens = vocabulary.AddedTokens;
        AdditionalSpecialTokens = vocabulary.AdditionalSpecialTokens;
        VocabSize = _model.Vocabulary.Count;
        VocabSizeWithAddedTokens = _tokenToId.Count;
        _padToken = _special.TryGetValue("pad", out var pad) ? pad.Token : null;

        _template = vocabulary.Template;
        _rawMatcher = new AddedTokenMatcher(AddedTokens.Where(t => !t.Normalized).Select(t => (t.Content, t)));
        _normalizedMatcher = new AddedTokenMatcher(AddedTokens.Where(t => t.Normalized).Select(t => (_normalizer?.Normalize(t.Content) ?? t.Content, t)));

        ModelMaxLength = config.ModelMaxLength;
        PaddingSide = config.PaddingSide ?? PaddingSide.Right;
        TruncationSide = config.TruncationSide ?? TruncationSide.Right;
        // BertTokenizer(Fast) defaults to cleaning up; the other families do not.
        CleanUpTokenizationSpaces = config.CleanUpTokenizationSpaces ?? Kind == TokenizerKind.WordPiece;
    }

    // ---- Loading ------------------------------------------------------------------------------------------

    /// <summary>
    /// Loads the tokenizer of a Hugging Face model directory, preferring (as transformers does) tokenizer.json, then
    /// vocab.txt (BERT), then vocab.json + merges.txt (GPT-2), then tokenizer.model (SentencePiece); settings come
    /// from tokenizer_config.json and special_tokens_map.json when present.
    /// </summary>
    /// <exception cref="TokenizerException">No tokenizer file, or a malformed one (the message names file and field).</exception>
    public static PretrainedTokenizer FromDirectory(string directory)
    {
        if (!Directory.Exists(directory)) throw TokenizerErrors.At(directory, null, "directory not found");
        var config = TokenizerConfig.FromDirectory(directory);
        string File(string name) => Path.Combine(directory, name);

        if (System.IO.File.Exists(File(TokenizerJsonLoader.FileName))) return FromTokenizerJson(File(TokenizerJsonLoader.FileName), config);
        if (System.IO.File.Exists(File(VocabFileLoader.WordPieceVocabFile))) return FromWordPieceVocab(File(VocabFileLoader.WordPieceVocabFile), config);
        if (System.IO.File.Exists(File(VocabFileLoader.BpeVocabFile)) && System.IO.File.Exists(File(VocabFileLoader.BpeMergesFile)))
            return FromBpeFiles(File(VocabFileLoader.BpeVocabFile), File(VocabFileLoader.BpeMergesFile), config);
        if (System.IO.File.Exists(File(SentencePieceLoader.FileName))) return FromSentencePiece(File(SentencePieceLoader.FileName), config);
        throw TokenizerErrors.At(directory, null,
            $"no tokenizer found (looked for {TokenizerJsonLoader.FileName}, {VocabFileLoader.WordPieceVocabFile}, {VocabFileLoader.BpeVocabFile} + {VocabFileLoader.BpeMergesFile}, {SentencePieceLoader.FileName})");
    }

    /// <summary>Loads a tokenizer.json (WordPiece, byte-level BPE, SentencePiece-style BPE or Unigram model).</summary>
    public static PretrainedTokenizer FromTokenizerJson(string path, TokenizerConfig? config = null) =>
        Build(path, () => TokenizerJsonLoader.Load(path, config ?? TokenizerConfig.Empty), config);

    /// <summary>Loads a BERT vocab.txt (one WordPiece token per line).</summary>
    public static PretrainedTokenizer FromWordPieceVocab(string vocabPath, TokenizerConfig? config = null) =>
        Build(vocabPath, () => VocabFileLoader.LoadWordPiece(vocabPath, config ?? TokenizerConfig.Empty), config);

    /// <summary>Loads GPT-2-style byte-level BPE files: vocab.json (token to id) and merges.txt (ranked merges).</summary>
    public static PretrainedTokenizer FromBpeFiles(string vocabJsonPath, string mergesPath, TokenizerConfig? config = null) =>
        Build(vocabJsonPath, () => VocabFileLoader.LoadBpe(vocabJsonPath, mergesPath, config ?? TokenizerConfig.Empty), config);

    /// <summary>Loads a SentencePiece model file (tokenizer.model).</summary>
    public static PretrainedTokenizer FromSentencePiece(string modelPath, TokenizerConfig? config = null)
    {
        if (!System.IO.File.Exists(modelPath)) throw TokenizerErrors.At(modelPath, null, "file not found");
        return FromSentencePiece(System.IO.File.ReadAllBytes(modelPath), config, modelPath);
    }

    /// <summary>Builds a tokenizer from the bytes of a SentencePiece model (e.g. one rebuilt from a GGUF vocabulary).</summary>
    /// <param name="model">The serialized ModelProto.</param>
    /// <param name="config">Special tokens and flags (add_bos_token, ...); BOS, EOS and UNK default to the model's own pieces.</param>
    /// <param name="source">How to name the model in error messages.</param>
    public static PretrainedTokenizer FromSentencePiece(byte[] model, TokenizerConfig? config = null, string source = "SentencePiece model")
    {
        ArgumentNullException.ThrowIfNull(model);
        return Build(source, () => SentencePieceLoader.Load(model, source, config ?? TokenizerConfig.Empty), config);
    }

    /// <summary>Builds a tokenizer from a stream holding a SentencePiece model (read to its end, not disposed).</summary>
    public static PretrainedTokenizer FromSentencePiece(Stream model, TokenizerConfig? config = null, string source = "SentencePiece model")
    {
        ArgumentNullException.ThrowIfNull(model);
        using var buffer = new MemoryStream();
        model.CopyTo(buffer);
        return FromSentencePiece(buffer.ToArray(), config, source);
    }

    static PretrainedTokenizer Build(string source, Func<TokenizerDefinition> load, TokenizerConfig? config)
    {
        try
        {
            return new PretrainedTokenizer(load(), config ?? TokenizerConfig.Empty);
        }
        catch (Exception e) when (e is not (TokenizerException or OutOfMemoryException))
        {
            // The loaders check what Microsoft.ML.Tokenizers would reject; anything it still refuses is reported
            // against the file rather than escaping as one of its own exceptions.
            throw TokenizerErrors.At(source, null, $"the tokenizer could not be built ({e.GetType().Name}: {e.Message})", e);
        }
    }

    // ---- Properties ---------------------------------------------------------------------------------------

    /// <summary>The algorithm.</summary>
    public TokenizerKind Kind { get; }

    /// <summary>The file the vocabulary was read from.</summary>
    public string Source { get; }

    /// <summary>Size of the model's vocabulary without added tokens (Hugging Face's <c>vocab_size</c>).</summary>
    public int VocabSize { get; }

    /// <summary>Number of distinct tokens including added ones (Hugging Face's <c>len(tokenizer)</c>).</summary>
    public int VocabSizeWithAddedTokens { get; }

    /// <summary>Tokens cut out of the text as a whole (special tokens included), by id.</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    public string? BosToken => Token("bos");
    public string? EosToken => Token("eos");
    public string? UnkToken => Token("unk");
    public string? ClsToken => Token("cls");
    public string? SepToken => Token("sep");
    public string? MaskToken => Token("mask");

    /// <summary>The padding token; settable (e.g. to <see cref="EosToken"/> for GPT-2, which has none) to any known token.</summary>
    public string? PadToken
    {
        get => _padToken;
        set => _padToken = value is null || _tokenToId.ContainsKey(value)
            ? value
            : throw new ArgumentException($"'{value}' is not a token of this tokenizer", nameof(value));
    }

    public int? BosTokenId => Id("bos");
    public int? EosTokenId => Id("eos");
    public int? UnkTokenId => Id("unk");
    public int? ClsTokenId => Id("cls");
    public int? SepTokenId => Id("sep");
    public int? MaskTokenId => Id("mask");
    public int? PadTokenId => _padToken is null ? null : _tokenToId[_padToken];

    /// <summary>Special tokens beyond the named ones ("additional_special_tokens").</summary>
    public IReadOnlyList<string> AdditionalSpecialTokens { get; }

    /// <summary>Ids dropped by <c>Decode(..., skipSpecialTokens: true)</c>.</summary>
    public IReadOnlySet<int> SpecialTokenIds => _specialIds;

    /// <summary>The longest input the model takes, when known; the default limit for truncation and max-length padding.</summary>
    public int? ModelMaxLength { get; set; }

    /// <summary>Where <see cref="EncodeBatch"/> pads unless told otherwise.</summary>
    public PaddingSide PaddingSide { get; set; }

    /// <summary>Which end truncation cuts.</summary>
    public TruncationSide TruncationSide { get; set; }

    /// <summary>Whether <see cref="Decode(IEnumerable{int}, bool, bool?)"/> removes spaces before punctuation by default.</summary>
    public bool CleanUpTokenizationSpaces { get; set; }

    string? Token(string role) => _special.TryGetValue(role, out var t) ? t.Token : null;
    int? Id(string role) => _special.TryGetValue(role, out var t) ? t.Id : null;

    /// <summary>The id of <paramref name="token"/> (vocabulary or added), or null.</summary>
    public int? TokenToId(string token) => _tokenToId.TryGetValue(token, out int id) ? id : null;

    /// <summary>The token string of <paramref name="id"/>, or null when no token has it.</summary>
    public string? IdToToken(int id) => id >= 0 && id < _idToToken.Length ? _idToToken[id] : null;

    // ---- Encoding -----------------------------------------------------------------------------------------

    /// <summary>The token strings of <paramref name="text"/>, without special tokens (Hugging Face's <c>tokenize</c>).</summary>
    public IReadOnlyList<string> Tokenize(string text) => EncodeSequence(text).Select(id => _idToToken[id]!).ToList();

    /// <summary>
    /// Encodes one text or a pair. With <paramref name="addSpecialTokens"/> the family's template applies (BERT:
    /// [CLS] a [SEP] b [SEP] with token types 0/1; Llama: BOS per add_bos_token; GPT-2: nothing).
    /// </summary>
    /// <param name="text">The (first) sequence.</param>
    /// <param name="textPair">The second sequence, or null.</param>
    /// <param name="addSpecialTokens">Apply the template's special tokens.</param>
    /// <param name="maxLength">When set, truncate (longest first) so the result has at most this many tokens.</param>
    public EncodedInput Encode(string text, string? textPair = null, bool addSpecialTokens = true, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var a = EncodeSequence(text);
        var b = textPair is null ? null : EncodeSequence(textPair);
        if (maxLength is int limit)
        {
            int budget = limit - (addSpecialTokens ? _template.AddedTokens(b is not null) : 0);
            if (budget < 0) throw new ArgumentOutOfRangeException(nameof(maxLength), limit, $"shorter than the {limit - budget} special tokens the template adds");
            SequenceTruncation.Truncate(a, b, budget, TruncationSide);
        }
        var (ids, typeIds) = _template.Apply(a, b, addSpecialTokens);
        return new EncodedInput(ids, typeIds, Enumerable.Repeat(1, ids.Count).ToList());
    }

    /// <summary>
    /// Encodes a batch into [B, T] int64 tensors, padded with <see cref="PadTokenId"/> (attention mask 0, token type 0)
    /// on <paramref name="paddingSide"/> (default <see cref="PaddingSide"/>).
    /// </summary>
    /// <param name="texts">The rows' (first) sequences.</param>
    /// <param name="textPairs">Second sequences, one per text, or null.</param>
    /// <param name="padding">How to bring rows to one length.</param>
    /// <param name="truncation">Truncate each row to <paramref name="maxLength"/> (default <see cref="ModelMaxLength"/>).</param>
    /// <param name="maxLength">Length for truncation and for <see cref="PaddingStrategy.MaxLength"/>.</param>
    /// <param name="paddingSide">Overrides <see cref="PaddingSide"/> for this call.</param>
    /// <param name="addSpecialTokens">Apply the template's special tokens.</param>
    /// <exception cref="ArgumentException">Mismatched pairs, rows of unequal length without padding, or no length limit to use.</exception>
    /// <exception cref="InvalidOperationException">Padding is needed but there is no pad token.</exception>
    public BatchEncoding EncodeBatch(IReadOnlyList<string> texts, IReadOnlyList<string>? textPairs = null,
        PaddingStrategy padding = PaddingStrategy.Longest, bool truncation = false, int? maxLength = null,
        PaddingSide? paddingSide = null, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (textPairs is not null && textPairs.Count != texts.Count)
            throw new ArgumentException($"{textPairs.Count} pairs for {texts.Count} texts", nameof(textPairs));
        int? limit = maxLength ?? ModelMaxLength;
        if ((truncation || padding == PaddingStrategy.MaxLength) && limit is null)
            throw new ArgumentException("no maxLength given and the tokenizer has no ModelMaxLength", nameof(maxLength));

        var rows = new List<EncodedInput>(texts.Count);
        for (int i = 0; i < texts.Count; i++) rows.Add(Encode(texts[i], textPairs?[i], addSpecialTokens, truncation ? limit : null));

        int longest = rows.Count == 0 ? 0 : rows.Max(r => r.Length);
        int target = padding switch
        {
            PaddingStrategy.MaxLength => limit!.Value,
            _ => longest,
        };
        if (longest > target)
            throw new ArgumentException($"a row has {longest} tokens, more than the max length {target}; enable truncation", nameof(texts));
        if (padding == PaddingStrategy.None && rows.Any(r => r.Length != target))
            throw new ArgumentException("rows differ in length and padding is off; tensors need equal lengths", nameof(padding));
        if (rows.Any(r => r.Length < target) && PadTokenId is null)
            throw new InvalidOperationException("padding needs a pad token and this tokenizer has none; set PadToken (e.g. to EosToken)");

        var side = paddingSide ?? PaddingSide;
        var padded = rows.Select(r => Pad(r, target, PadTokenId ?? 0, side)).ToList();
        return new BatchEncoding(padded, target);
    }

    static EncodedInput Pad(EncodedInput row, int length, int padId, PaddingSide side)
    {
        int missing = length - row.Length;
        if (missing == 0) return row;
        List<int> Padded(IReadOnlyList<int> values, int fill) => side == PaddingSide.Right
            ? [.. values, .. Enumerable.Repeat(fill, missing)]
            : [.. Enumerable.Repeat(fill, missing), .. values];
        return new EncodedInput(Padded(row.Ids, padId), Padded(row.TokenTypeIds, 0), Padded(row.AttentionMask, 0));
    }

    /// <summary>Ids of one text without special tokens: added tokens, then normalize, split into words, model.</summary>
    List<int> EncodeSequence(string text)
    {
        var ids = new List<int>();
        var words = new List<string>();
        foreach (var raw in _rawMatcher.Split(text))
        {
            if (raw.Token is { } rawToken)
            {
                ids.Add(rawToken.Id);
                continue;
            }
            string piece = text.Substring(raw.Start, raw.Length);
            string normalized = _normalizer?.Normalize(piece) ?? piece;
            foreach (var sub in _normalizedMatcher.Split(normalized))
            {
                if (sub.Token is { } normalizedToken)
                {
                    ids.Add(normalizedToken.Id);
                    continue;
                }
                words.Clear();
                _splitter.Split(normalized.Substring(sub.Start, sub.Length), atStart: raw.Start == 0 && sub.Start == 0, words);
                foreach (string word in words) _model.Encode(word, ids);
            }
        }
        return ids;
    }

    // ---- Decoding -----------------------------------------------------------------------------------------

    /// <summary>
    /// The text of <paramref name="ids"/> as Hugging Face decodes it: byte-level tokens back to UTF-8, "▁" to spaces
    /// with the first dropped, "##" pieces joined. Ids that no token has are skipped, as the tokenizers library does.
    /// </summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="skipSpecialTokens">Leave out special tokens (<see cref="SpecialTokenIds"/>).</param>
    /// <param name="cleanUpTokenizationSpaces">Remove spaces before punctuation; default <see cref="CleanUpTokenizationSpaces"/>.</param>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false, bool? cleanUpTokenizationSpaces = null)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var tokens = new List<string>();
        foreach (int id in ids)
        {
            if (IdToToken(id) is not { } token || skipSpecialTokens && _specialIds.Contains(id)) continue;
            tokens.Add(token);
        }
        string text = _decoder.Decode(tokens);
        return cleanUpTokenizationSpaces ?? CleanUpTokenizationSpaces ? TokenDecoder.CleanUp(text) : text;
    }

    /// <summary>Decodes int64 ids (as held by tensors).</summary>
    public string Decode(IEnumerable<long> ids, bool skipSpecialTokens = false, bool? cleanUpTokenizationSpaces = null) =>
        Decode(ids.Select(id => id is < int.MinValue or > int.MaxValue ? -1 : (int)id), skipSpecialTokens, cleanUpTokenizationSpaces);

    /// <summary>Decodes each row of a [B, T] (or one [T]) integer tensor.</summary>
    public IReadOnlyList<string> DecodeBatch(Tensor ids, bool skipSpecialTokens = false, bool? cleanUpTokenizationSpaces = null)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.dim() is not (1 or 2)) throw new ArgumentException($"expected a [B, T] or [T] tensor, got {ids.dim()} dimensions", nameof(ids));
        using var rows = (ids.dim() == 1 ? ids.unsqueeze(0) : ids.alias()).to(ScalarType.Int64).cpu();
        long width = rows.shape[1];
        var values = rows.data<long>().ToArray();
        return Enumerable.Range(0, (int)rows.shape[0])
            .Select(b => Decode(values.Skip((int)(b * width)).Take((int)width), skipSpecialTokens, cleanUpTokenizationSpaces))
            .ToList();
    }
}
