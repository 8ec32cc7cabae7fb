using System.Text;

namespace PeftSharp.Tokenization;

/// <summary>
/// Reads the vocabulary files of transformers' slow tokenizers: BERT's vocab.txt (one WordPiece token per line,
/// the line number is the id) and GPT-2's vocab.json + merges.txt (byte-level BPE), set up as transformers
/// converts them to fast tokenizers.
/// </summary>
static class VocabFileLoader
{
    public const string WordPieceVocabFile = "vocab.txt";
    public const string BpeVocabFile = "vocab.json";
    public const string BpeMergesFile = "merges.txt";

    static readonly TokenizerConfig BertDefaults = new() { UnkToken = "[UNK]", SepToken = "[SEP]", PadToken = "[PAD]", ClsToken = "[CLS]", MaskToken = "[MASK]" };
    static readonly TokenizerConfig Gpt2Defaults = new() { BosToken = "<|endoftext|>", EosToken = "<|endoftext|>", UnkToken = "<|endoftext|>" };

    /// <summary>BERT: BertNormalizer and BertPreTokenizer per the config's casing, WordPiece, [CLS] A [SEP] (B [SEP]).</summary>
    /// <exception cref="TokenizerException">Missing or empty file, special tokens absent from the vocabulary.</exception>
    public static TokenizerDefinition LoadWordPiece(string vocabPath, TokenizerConfig config)
    {
        var lines = ReadLines(vocabPath);
        if (lines.Count == 0) throw TokenizerErrors.At(vocabPath, null, "the vocabulary is empty");
        var model = new WordPieceModel(lines, config.UnkToken ?? BertDefaults.UnkToken!, "##", 100, vocabPath, null);

        int Require(string? configured, string fallback, string role) =>
            model.Vocabulary.TryGetValue(configured ?? fallback, out int id)
                ? id
                : throw TokenizerErrors.At(vocabPath, null, $"the {role} '{configured ?? fallback}' is not in the vocabulary");
        var postProcessor = TemplateProcessor.Bert(Require(config.ClsToken, "[CLS]", "cls_token"), Require(config.SepToken, "[SEP]", "sep_token"));

        var normalizer = TextNormalizer.Bert(cleanText: true, config.TokenizeChineseChars ?? true, config.StripAccents, config.DoLowerCase ?? true);
        return new TokenizerDefinition(TokenizerKind.WordPiece, model, normalizer, TextSplitter.Bert(), TokenDecoder.WordPiece("##", cleanup: true),
            postProcessor, [], BertDefaults, vocabPath);
    }

    /// <summary>
    /// GPT-2: ByteLevel pre-tokenizer (prefix space per the config), byte-level BPE, no special tokens added unless
    /// the config sets add_bos_token (then "[BOS] A" and "[BOS] A B:1", as transformers' GPT2Converter builds it).
    /// </summary>
    /// <exception cref="TokenizerException">Missing or malformed file, merges that reference unknown tokens.</exception>
    public static TokenizerDefinition LoadBpe(string vocabPath, string mergesPath, TokenizerConfig config)
    {
        var root = JsonField.ParseFile(vocabPath);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, id) in root.Properties()) vocab[token] = id.AsInt();

        var merges = new List<(string, string)>();
        var lineNumbers = new List<int>();
        var lines = ReadLines(mergesPath);
        for (int i = 0; i < lines.Count; i++)
        {
            string line = lines[i];
            if (line.Length == 0 || i == 0 && line.StartsWith("#version", StringComparison.Ordinal)) continue;
            int space = line.IndexOf(' ');
            if (space <= 0 || space != line.LastIndexOf(' ') || space == line.Length - 1)
                throw new TokenizerException($"{mergesPath}: line {i + 1}: must be two tokens separated by one space, found \"{line}\"");
            merges.Add((line[..space], line[(space + 1)..]));
            lineNumbers.Add(i + 1);
        }

        var model = new BpeModel(vocab, merges, byteLevel: true, unknownToken: null, fuseUnknown: false, byteFallback: false, ignoreMerges: false,
            vocabPath, "", i => $"{Path.GetFileName(mergesPath)} line {lineNumbers[i]}");
        TemplateProcessor? postProcessor = null;
        if (config.AddBosToken == true)
        {
            string bos = config.BosToken ?? Gpt2Defaults.BosToken!;
            int bosId = vocab.TryGetValue(bos, out int id) ? id : throw TokenizerErrors.At(vocabPath, null, $"add_bos_token is set but the bos_token '{bos}' is not in the vocabulary");
            postProcessor = new TemplateProcessor([TemplateProcessor.Part.Special(bosId, 0), TemplateProcessor.Part.A()],
                [TemplateProcessor.Part.Special(bosId, 0), TemplateProcessor.Part.A(), TemplateProcessor.Part.B(1)]);
        }
        return new TokenizerDefinition(TokenizerKind.ByteLevelBpe, model, null, TextSplitter.ByteLevel(config.AddPrefixSpace ?? false, useRegex: true),
            TokenDecoder.ByteLevel(), postProcessor, [], Gpt2Defaults, vocabPath);
    }

    /// <summary>The file's lines without line terminators, decoded as strict UTF-8.</summary>
    static List<string> ReadLines(string path)
    {
        if (!File.Exists(path)) throw TokenizerErrors.At(path, null, "file not found");
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(path));
        }
        catch (DecoderFallbackException e)
        {
            throw TokenizerErrors.At(path, null, "is not valid UTF-8 text", e);
        }
        catch (IOException e)
        {
            throw TokenizerErrors.At(path, null, $"cannot be read ({e.Message})", e);
        }
        if (text.StartsWith('\uFEFF')) text = text[1..];
        var lines = text.Split('\n').Select(l => l.EndsWith('\r') ? l[..^1] : l).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }
}
