using System.Text.RegularExpressions;

namespace PeftSharp.Tokenization;

/// <summary>Reads Hugging Face's pattern objects, {"String": "..."} or {"Regex": "..."}, as a .NET regex.</summary>
static class TextPattern
{
    public static Regex FromJson(JsonField node)
    {
        if (node.Get("String") is { } literal) return new Regex(Regex.Escape(literal.AsString()), RegexOptions.CultureInvariant);
        if (node.Get("Regex") is { } pattern) return Compile(pattern.AsString(), pattern);
        throw node.Error("must be {\"String\": ...} or {\"Regex\": ...}");
    }

    /// <summary>
    /// Compiles a pattern written for Oniguruma (Hugging Face's engine). The patterns in real tokenizers
    /// (GPT-2, Llama-3, Qwen2: \p{L}, \p{N}, (?i:...), lookahead) mean the same in .NET; one that .NET cannot
    /// parse (e.g. possessive quantifiers) is reported with its field.
    /// </summary>
    public static Regex Compile(string pattern, JsonField? source)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled);
        }
        catch (ArgumentException e)
        {
            if (source is { } field) throw field.Error($"regular expression not supported by .NET ({e.Message})", e);
            throw;
        }
    }
}
