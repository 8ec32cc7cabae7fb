namespace PeftSharp.Tokenization;

/// <summary>
/// Everything a loader reads from one vocabulary format, before the tokenizer settings (tokenizer_config.json) are
/// applied: the pipeline steps, the added tokens the file declares, and the family's default special tokens.
/// </summary>
/// <param name="Kind">The algorithm.</param>
/// <param name="Model">Encodes one word.</param>
/// <param name="Normalizer">Rewrites text before splitting, or null.</param>
/// <param name="Splitter">Splits text into words.</param>
/// <param name="Decoder">Turns token strings back into text.</param>
/// <param name="AddedTokens">Tokens the file declares with fixed ids.</param>
/// <param name="Source">The file the tokenizer was read from, named in later errors.</param>
/// <param name="PostProcessor">The file's own post-processing; null when it adds nothing.</param>
/// <param name="Defaults">Special tokens (used only if in the vocabulary) and add_bos/add_eos the family uses when the settings name none.</param>
sealed record TokenizerDefinition(
    TokenizerKind Kind,
    TokenModel Model,
    TextNormalizer? Normalizer,
    TextSplitter Splitter,
    TokenDecoder Decoder,
    TemplateProcessor? PostProcessor,
    IReadOnlyList<AddedToken> AddedTokens,
    TokenizerConfig Defaults,
    string Source);
