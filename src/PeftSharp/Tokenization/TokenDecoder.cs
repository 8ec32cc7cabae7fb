using System.Text;
using System.Text.RegularExpressions;

namespace PeftSharp.Tokenization;

/// <summary>
/// One of Hugging Face's decoders (tokenizer.json "decoder"): a step that rewrites the list of token strings;
/// the text is the concatenation of the last step's output.
/// </summary>
/// <remarks>
/// Hand-written because Hugging Face decodes token strings, added tokens included, through this chain, while
/// Microsoft.ML.Tokenizers decodes ids of its own vocabulary with its own rules: its WordPiece decoder glues
/// "." "," "'" to the previous word instead of applying the cleanup list, and its SentencePiece decoder drops
/// the space after a leading "&lt;s&gt;" that Hugging Face keeps ("&lt;s&gt; Hello").
/// </remarks>
abstract class TokenDecoder
{
    public abstract List<string> DecodeChain(List<string> tokens);

    /// <summary>The decoded text.</summary>
    public string Decode(List<string> tokens) => string.Concat(DecodeChain(tokens));

    /// <summary>Without a decoder, Hugging Face joins tokens with spaces.</summary>
    public static readonly TokenDecoder None = new Delegating(tokens => [string.Join(' ', tokens)]);

    public static TokenDecoder ByteLevel() => new Delegating(tokens =>
    {
        var bytes = new List<byte>();
        foreach (string token in tokens) ByteLevelAlphabet.AppendBytes(token, bytes);
        return [Encoding.UTF8.GetString(bytes.ToArray())];
    });

    public static TokenDecoder WordPiece(string prefix, bool cleanup) => new Delegating(tokens =>
    {
        for (int i = 0; i < tokens.Count; i++)
        {
            if (i != 0) tokens[i] = tokens[i].StartsWith(prefix, StringComparison.Ordinal) ? tokens[i][prefix.Length..] : " " + tokens[i];
            if (cleanup) tokens[i] = CleanUp(tokens[i], wordPiece: true);
        }
        return tokens;
    });

    /// <summary>"▁" back to spaces; the first token loses its "▁" unless the prepend scheme is "never".</summary>
    public static TokenDecoder Metaspace(char replacement, bool stripFirst) => new Delegating(tokens =>
    {
        for (int i = 0; i < tokens.Count; i++)
            tokens[i] = i == 0 && stripFirst ? tokens[i].Replace(replacement.ToString(), "") : tokens[i].Replace(replacement, ' ');
        return tokens;
    });

    /// <summary>Llama-2's decoder: "▁" to spaces, byte tokens to text, fuse, strip one leading space.</summary>
    public static TokenDecoder SentencePiece() => Sequence([
        Replace(new Regex(Regex.Escape("▁")), " "), ByteFallback(), Fuse(), Strip(' ', 1, 0)]);

    public static TokenDecoder Replace(Regex pattern, string content) => new Delegating(tokens =>
        tokens.Select(t => pattern.Replace(t, content.Replace("$", "$$"))).ToList());

    /// <summary>Runs of "&lt;0xXX&gt;" tokens become the text of their bytes, or one U+FFFD per byte when not valid UTF-8.</summary>
    public static TokenDecoder ByteFallback() => new Delegating(tokens =>
    {
        var result = new List<string>(tokens.Count);
        var pending = new List<byte>();
        foreach (string token in tokens)
        {
            if (token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
                && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out byte b))
            {
                pending.Add(b);
                continue;
            }
            FlushBytes(pending, result);
            result.Add(token);
        }
        FlushBytes(pending, result);
        return result;
    });

    static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    static void FlushBytes(List<byte> pending, List<string> result)
    {
        if (pending.Count == 0) return;
        try
        {
            result.Add(StrictUtf8.GetString(pending.ToArray()));
        }
        catch (DecoderFallbackException)
        {
            result.AddRange(Enumerable.Repeat("\uFFFD", pending.Count));
        }
        pending.Clear();
    }

    public static TokenDecoder Fuse() => new Delegating(tokens => [string.Concat(tokens)]);

    /// <summary>Removes up to <paramref name="start"/> leading and <paramref name="stop"/> trailing <paramref name="content"/> characters of every token.</summary>
    public static TokenDecoder Strip(char content, int start, int stop) => new Delegating(tokens => tokens.Select(token =>
    {
        int from = 0, to = token.Length;
        while (from < Math.Min(start, token.Length) && token[from] == content) from++;
        for (int i = 0; i < stop && to > from && token[to - 1] == content; i++) to--;
        return token[from..to];
    }).ToList());

    /// <summary>Original BPE's end-of-word suffix (e.g. "&lt;/w&gt;") becomes a space, except on the last token.</summary>
    public static TokenDecoder Bpe(string suffix) => new Delegating(tokens =>
        tokens.Select((t, i) => t.Replace(suffix, i == tokens.Count - 1 ? "" : " ")).ToList());

    public static TokenDecoder Sequence(IReadOnlyList<TokenDecoder> steps) => new Delegating(tokens =>
        steps.Aggregate(tokens, (current, step) => step.DecodeChain(current)));

    /// <summary>Reads tokenizer.json's "decoder" (<see cref="None"/> when there is none).</summary>
    public static TokenDecoder FromJson(JsonField? node)
    {
        if (node is not { } n) return None;
        string type = n.String("type");
        return type switch
        {
            "ByteLevel" => ByteLevel(),
            "WordPiece" => WordPiece(n.String("prefix", "##"), n.Bool("cleanup", true)),
            "Metaspace" => Metaspace(ReadChar(n.Require("replacement")), StripsFirst(n)),
            "Replace" => Replace(TextPattern.FromJson(n.Require("pattern")), n.String("content")),
            "ByteFallback" => ByteFallback(),
            "Fuse" => Fuse(),
            "Strip" => Strip(ReadChar(n.Require("content")), n.Int("start", 0), n.Int("stop", 0)),
            "BPEDecoder" => Bpe(n.String("suffix", "</w>")),
            "Sequence" => Sequence(n.Require("decoders").Items().Select(item => FromJson(item)).ToList()),
            _ => throw n.Require("type").Error($"decoder type '{type}' is not supported (supported: ByteLevel, WordPiece, Metaspace, Replace, ByteFallback, Fuse, Strip, BPEDecoder, Sequence)"),
        };
    }

    static bool StripsFirst(JsonField n) =>
        n.BoolOrNull("add_prefix_space") != false && n.StringOrNull("prepend_scheme") != "never";

    static char ReadChar(JsonField node)
    {
        string s = node.AsString();
        return s.Length == 1 ? s[0] : throw node.Error($"must be a single character, found '{s}'");
    }

    /// <summary>
    /// Removes the spaces tokenization put before punctuation and English contractions: transformers'
    /// clean_up_tokenization, plus " do not" to " don't" in the WordPiece decoder's variant.
    /// </summary>
    public static string CleanUp(string text, bool wordPiece = false)
    {
        text = text.Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",").Replace(" ' ", "'")
            .Replace(" n't", "n't").Replace(" 'm", "'m");
        if (wordPiece) text = text.Replace(" do not", " don't");
        return text.Replace(" 's", "'s").Replace(" 've", "'ve").Replace(" 're", "'re");
    }

    sealed class Delegating(Func<List<string>, List<string>> chain) : TokenDecoder
    {
        public override List<string> DecodeChain(List<string> tokens) => chain(tokens);
    }
}
