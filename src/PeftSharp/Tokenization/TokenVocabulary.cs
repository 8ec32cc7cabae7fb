namespace PeftSharp.Tokenization;

/// <summary>
/// The complete id space of a tokenizer: the model's vocabulary plus added tokens, the resolved special tokens
/// (settings first, then the family's defaults), and the post-processing template that uses them.
/// </summary>
/// <remarks>
/// Follows transformers: a special token named in the settings but missing from the vocabulary is added with the
/// next free id; every special token is cut out of text as a whole and skipped by <c>skipSpecialTokens</c>.
/// </remarks>
sealed class TokenVocabulary
{
    /// <summary>Largest id space accepted; real vocabularies stay below 300,000.</summary>
    const int MaxIds = 1 << 24;

    static readonly string[] Roles = ["bos", "eos", "unk", "pad", "cls", "sep", "mask"];

    public TokenVocabulary(TokenizerDefinition definition, TokenizerConfig config)
    {
        var added = new SortedDictionary<int, AddedToken>();
        foreach (var token in definition.AddedTokens.Concat(config.AddedTokens))
        {
            if (token.Id < 0) throw TokenizerErrors.At(definition.Source, "added_tokens", $"token '{token.Content}' has a negative id {token.Id}");
            added.TryAdd(token.Id, token); // the vocabulary file's own entry wins over tokenizer_config.json's
        }

        TokenToId = new Dictionary<string, int>(definition.Model.Vocabulary, StringComparer.Ordinal);
        foreach (var token in added.Values) TokenToId[token.Content] = token.Id;
        int nextId = Math.Max(definition.Model.Vocabulary.Values.DefaultIfEmpty(-1).Max(), added.Keys.DefaultIfEmpty(-1).Max()) + 1;
        if (nextId > MaxIds) throw TokenizerErrors.At(definition.Source, null, $"token id {nextId - 1} is implausibly large (the id table would hold more than {MaxIds} entries)");

        int MakeSpecial(string content)
        {
            if (!TokenToId.TryGetValue(content, out int id))
            {
                id = nextId++;
                TokenToId[content] = id;
            }
            added[id] = added.TryGetValue(id, out var existing) && existing.Content == content
                ? existing with { Special = true }
                : new AddedToken(content, id) { Special = true };
            return id;
        }

        var configured = new Dictionary<string, string?>
        {
            ["bos"] = config.BosToken, ["eos"] = config.EosToken, ["unk"] = config.UnkToken, ["pad"] = config.PadToken,
            ["cls"] = config.ClsToken, ["sep"] = config.SepToken, ["mask"] = config.MaskToken,
        };
        var defaults = definition.Defaults;
        var fallback = new Dictionary<string, string?>
        {
            ["bos"] = defaults.BosToken, ["eos"] = defaults.EosToken, ["unk"] = defaults.UnkToken, ["pad"] = defaults.PadToken,
            ["cls"] = defaults.ClsToken, ["sep"] = defaults.SepToken, ["mask"] = defaults.MaskToken,
        };
        SpecialTokens = new Dictionary<string, (string, int)>();
        foreach (string role in Roles)
        {
            // A family default only counts when the vocabulary has it (GPT-2's "<|endoftext|>" in a GPT-2 vocabulary).
            string? content = configured[role] ?? (fallback[role] is { } d && TokenToId.ContainsKey(d) ? d : null);
            if (content is not null) SpecialTokens[role] = (content, MakeSpecial(content));
        }
        AdditionalSpecialTokens = config.AdditionalSpecialTokens;
        foreach (string content in AdditionalSpecialTokens) MakeSpecial(content);

        AddedTokens = added.Values.ToList();
        SpecialIds = added.Values.Where(t => t.Special).Select(t => t.Id).ToHashSet();
        IdToToken = new string?[nextId];
        foreach (var (token, id) in definition.Model.Vocabulary) IdToToken[id] = token;
        foreach (var token in AddedTokens) IdToToken[token.Id] = token.Content;

        Template = BuildTemplate(definition, config);
        foreach (int id in Template.SpecialIds)
            if (id < 0 || id >= IdToToken.Length || IdToToken[id] is null)
                throw TokenizerErrors.At(definition.Source, "post_processor", $"special token id {id} is not in the vocabulary");
    }

    public Dictionary<string, int> TokenToId { get; }
    public string?[] IdToToken { get; }
    public IReadOnlyList<AddedToken> AddedTokens { get; }
    public HashSet<int> SpecialIds { get; }
    public IReadOnlyList<string> AdditionalSpecialTokens { get; }

    /// <summary>Role ("bos", "eos", "unk", "pad", "cls", "sep", "mask") to token and id.</summary>
    public Dictionary<string, (string Token, int Id)> SpecialTokens { get; }

    public TemplateProcessor Template { get; }

    /// <summary>
    /// SentencePiece families (LlamaTokenizer and its fast twin) rebuild their template from add_bos_token and
    /// add_eos_token; the others keep the vocabulary file's post-processor.
    /// </summary>
    TemplateProcessor BuildTemplate(TokenizerDefinition definition, TokenizerConfig config)
    {
        bool? addBos = config.AddBosToken ?? definition.Defaults.AddBosToken;
        bool? addEos = config.AddEosToken ?? definition.Defaults.AddEosToken;
        bool sentencePiece = definition.Kind is TokenizerKind.SentencePieceBpe or TokenizerKind.Unigram;
        if (!sentencePiece || addBos is null && addEos is null) return definition.PostProcessor ?? TemplateProcessor.None;

        int? Required(bool? add, string role, string flag) => add != true ? null
            : SpecialTokens.TryGetValue(role, out var t) ? t.Id
            : throw TokenizerErrors.At(definition.Source, flag, $"is true but the tokenizer has no {role}_token");
        return TemplateProcessor.BosEos(Required(addBos, "bos", "add_bos_token"), Required(addEos, "eos", "add_eos_token"));
    }
}
