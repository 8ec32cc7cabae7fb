using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PeftSharp.Tokenization;

/// <summary>
/// One of Hugging Face's normalizers (tokenizer.json "normalizer"): rewrites a piece of text before it is split
/// into words.
/// </summary>
/// <remarks>
/// Hand-written because Microsoft.ML.Tokenizers has no counterpart with Hugging Face's semantics: its
/// BertNormalizer deletes tabs and newlines (they are Unicode controls) where Hugging Face turns them into spaces,
/// keeps format characters such as the soft hyphen, and recomposes the result to NFC (merging the Hangul jamo that
/// accent stripping decomposed); there is no Prepend/Replace pipeline at all.
/// </remarks>
abstract class TextNormalizer
{
    public abstract string Normalize(string text);

    /// <summary>BERT's normalizer: clean control characters, pad CJK ideographs with spaces, strip accents, lower-case.</summary>
    /// <param name="cleanText">Drop control characters, turn whitespace into spaces.</param>
    /// <param name="handleChineseChars">Surround CJK ideographs with spaces.</param>
    /// <param name="stripAccents">null: strip exactly when lower-casing (Hugging Face's default).</param>
    /// <param name="lowercase">Lower-case the text.</param>
    public static TextNormalizer Bert(bool cleanText, bool handleChineseChars, bool? stripAccents, bool lowercase) =>
        new BertNormalizer(cleanText, handleChineseChars, stripAccents ?? lowercase, lowercase);

    public static TextNormalizer Prepend(string prefix) => new Delegating(s => s.Length == 0 ? s : prefix + s);

    public static TextNormalizer Replace(Regex pattern, string content) => new Delegating(s => pattern.Replace(s, content.Replace("$", "$$")));

    public static TextNormalizer Sequence(IReadOnlyList<TextNormalizer> steps) =>
        new Delegating(s => steps.Aggregate(s, (text, step) => step.Normalize(text)));

    /// <summary>Reads tokenizer.json's "normalizer" (null when there is none).</summary>
    public static TextNormalizer? FromJson(JsonField? node, Func<JsonField, TextNormalizer>? precompiled = null)
    {
        if (node is not { } n) return null;
        string type = n.String("type");
        return type switch
        {
            "BertNormalizer" => Bert(n.Bool("clean_text", true), n.Bool("handle_chinese_chars", true), n.BoolOrNull("strip_accents"), n.Bool("lowercase", true)),
            "Lowercase" => new Delegating(s => s.ToLowerInvariant()),
            "NFC" => new Delegating(s => s.Normalize(NormalizationForm.FormC)),
            "NFD" => new Delegating(s => s.Normalize(NormalizationForm.FormD)),
            "NFKC" => new Delegating(s => s.Normalize(NormalizationForm.FormKC)),
            "NFKD" => new Delegating(s => s.Normalize(NormalizationForm.FormKD)),
            "StripAccents" => new Delegating(RemoveNonSpacingMarks),
            "Strip" => Strip(n.Bool("strip_left", true), n.Bool("strip_right", true)),
            "Prepend" => Prepend(n.String("prepend")),
            "Replace" => Replace(TextPattern.FromJson(n.Require("pattern")), n.String("content")),
            "Sequence" => Sequence(n.Require("normalizers").Items().Select(item => FromJson(item, precompiled)!).ToList()),
            "Precompiled" when precompiled is not null => precompiled(n),
            _ => throw n.Require("type").Error($"normalizer type '{type}' is not supported (supported: BertNormalizer, Lowercase, NFC, NFD, NFKC, NFKD, StripAccents, Strip, Prepend, Replace, Sequence{(precompiled is null ? "" : ", Precompiled")})"),
        };
    }

    static TextNormalizer Strip(bool left, bool right) => new Delegating(s => (left, right) switch
    {
        (true, true) => s.Trim(),
        (true, false) => s.TrimStart(),
        (false, true) => s.TrimEnd(),
        _ => s,
    });

    static string RemoveNonSpacingMarks(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
            if (Rune.GetUnicodeCategory(rune) != UnicodeCategory.NonSpacingMark) sb.Append(rune.ToString());
        return sb.ToString();
    }

    sealed class Delegating(Func<string, string> normalize) : TextNormalizer
    {
        public override string Normalize(string text) => normalize(text);
    }

    /// <summary>Hugging Face's BertNormalizer, step for step: clean text, CJK padding, accent stripping, lower-casing.</summary>
    sealed class BertNormalizer(bool cleanText, bool handleChineseChars, bool stripAccents, bool lowercase) : TextNormalizer
    {
        public override string Normalize(string text)
        {
            var sb = new StringBuilder(text.Length + 8);
            foreach (var rune in text.EnumerateRunes())
            {
                if (cleanText)
                {
                    if (rune.Value is 0 or 0xFFFD || IsControl(rune)) continue;
                    if (IsWhitespace(rune)) { sb.Append(' '); continue; }
                }
                if (handleChineseChars && IsChinese(rune.Value)) sb.Append(' ').Append(rune.ToString()).Append(' ');
                else sb.Append(rune.ToString());
            }
            string result = sb.ToString();
            if (stripAccents) result = RemoveNonSpacingMarks(result.Normalize(NormalizationForm.FormD));
            return lowercase ? result.ToLowerInvariant() : result;
        }

        static bool IsWhitespace(Rune rune) => Rune.IsWhiteSpace(rune);

        // Tab, newline and carriage return count as whitespace, not control; every other "Other" category is dropped.
        static bool IsControl(Rune rune) => rune.Value is not ('\t' or '\n' or '\r') && Rune.GetUnicodeCategory(rune) is
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;

        static bool IsChinese(int c) => c is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF
            or >= 0x2A700 and <= 0x2B73F or >= 0x2B740 and <= 0x2B81F or >= 0x2B920 and <= 0x2CEAF
            or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
    }
}
