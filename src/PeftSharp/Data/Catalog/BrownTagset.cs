namespace PeftSharp.Data.Catalog;

/// <summary>
/// Brown tags collapsed to the 12 universal tags of Petrov, Das and McDonald (2012): NOUN VERB ADJ ADV PRON DET
/// ADP NUM CONJ PRT X and "." (punctuation). The full table is in docs/data.md.
/// </summary>
/// <remarks>
/// Rules, applied to the lower-case tag: a foreign word ("fw-...") is X; the title, headline and citation suffixes
/// (-tl, -hl, -nc) are dropped; a contraction ("pps+bez", "it's") takes its first part; negation ("bez*") and
/// possessive ("nn$") marks are dropped; the remaining base tag is looked up in <see cref="Base"/>; anything
/// else (including "nil", untagged) is X.
/// </remarks>
static class BrownTagset
{
    public static readonly string[] Universal = ["NOUN", "VERB", "ADJ", "ADV", "PRON", "DET", "ADP", "NUM", "CONJ", "PRT", "X", "."];

    /// <summary>Base Brown tags (suffixes, contractions, negation and possessive marks removed) to universal tags.</summary>
    public static readonly IReadOnlyDictionary<string, string> Base = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        // punctuation
        ["."] = ".", [","] = ".", [":"] = ".", ["("] = ".", [")"] = ".", ["--"] = ".", ["``"] = ".", ["''"] = ".", ["'"] = ".",
        // determiners and quantifiers
        ["abl"] = "PRT", ["abn"] = "PRT", ["abx"] = "DET", ["ap"] = "ADJ", ["at"] = "DET",
        ["dt"] = "DET", ["dti"] = "DET", ["dts"] = "DET", ["dtx"] = "DET", ["ex"] = "DET", ["wdt"] = "DET",
        // verbs: be, do, have, modals, lexical verbs
        ["be"] = "VERB", ["bed"] = "VERB", ["bedz"] = "VERB", ["beg"] = "VERB", ["bem"] = "VERB", ["ben"] = "VERB", ["ber"] = "VERB", ["bez"] = "VERB",
        ["do"] = "VERB", ["dod"] = "VERB", ["doz"] = "VERB",
        ["hv"] = "VERB", ["hvd"] = "VERB", ["hvg"] = "VERB", ["hvn"] = "VERB", ["hvz"] = "VERB",
        ["md"] = "VERB", ["vb"] = "VERB", ["vbd"] = "VERB", ["vbg"] = "VERB", ["vbn"] = "VERB", ["vbz"] = "VERB",
        // nouns (common, proper, adverbial) and nominal pronouns
        ["nn"] = "NOUN", ["nns"] = "NOUN", ["np"] = "NOUN", ["nps"] = "NOUN", ["nr"] = "NOUN", ["nrs"] = "NOUN", ["pn"] = "NOUN",
        // pronouns
        ["pp"] = "PRON", ["ppl"] = "PRON", ["ppls"] = "PRON", ["ppo"] = "PRON", ["pps"] = "PRON", ["ppss"] = "PRON",
        ["wp"] = "PRON", ["wpo"] = "PRON", ["wps"] = "PRON",
        // adjectives, numbers
        ["jj"] = "ADJ", ["jjr"] = "ADJ", ["jjs"] = "ADJ", ["jjt"] = "ADJ", ["od"] = "ADJ", ["cd"] = "NUM",
        // adverbs and qualifiers; "*" alone is "not"
        ["rb"] = "ADV", ["rbr"] = "ADV", ["rbt"] = "ADV", ["rn"] = "ADV", ["ql"] = "ADV", ["qlp"] = "ADV", ["wql"] = "ADV", ["wrb"] = "ADV", ["*"] = "ADV",
        // adpositions, conjunctions, particles, interjections
        ["in"] = "ADP", ["cs"] = "ADP", ["cc"] = "CONJ", ["rp"] = "PRT", ["to"] = "PRT", ["uh"] = "X",
    };

    /// <summary>The universal tag of a Brown tag.</summary>
    public static string ToUniversal(string brownTag)
    {
        string tag = brownTag.ToLowerInvariant();
        if (tag.StartsWith("fw-", StringComparison.Ordinal)) return "X";
        if (Base.TryGetValue(tag, out string? direct)) return direct;
        foreach (string suffix in new[] { "-tl", "-hl", "-nc" })
            tag = tag.Replace(suffix, "", StringComparison.Ordinal);
        int plus = tag.IndexOf('+');
        if (plus > 0) tag = tag[..plus];
        if (tag.Length > 1) tag = tag.TrimEnd('*');
        if (Base.TryGetValue(tag, out string? found)) return found;
        // Possessives: nn$, pp$, pp$$, wp$ ...
        string stem = tag.TrimEnd('$');
        return stem.Length > 0 && Base.TryGetValue(stem, out string? possessive) ? possessive : "X";
    }
}
