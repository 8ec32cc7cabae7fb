namespace PeftSharp.Tokenization;

/// <summary>
/// Everything a loader reads from one vocabulary format, before the tokenizer settings (tokenizer_config.json) are
/// applied: the pipeline steps, the added tokens the file declares, and the family's default special tokens.
/// </summary>
/// <param name="Source">The file the tokenizer was read from, named in later errors.</param>
/// <param name="PostProcessor">The file's own post-processing; null when it adds nothing.</param>
/// <param name="Defaults">Special tokens the family uses when the settings name none (used only if in the vocabulary).</param>
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
