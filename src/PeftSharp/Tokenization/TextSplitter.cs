using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PeftSharp.Tokenization;

/// <summary>
/// One of Hugging Face's pre-tokenizers (tokenizer.json "pre_tokenizer"): splits normalized text into the words
/// the model encodes one at a time.
/// </summary>
/// <remarks>
/// Hand-written: Microsoft.ML.Tokenizers' pre-tokenizers only return regex matches (Hugging Face also keeps the
/// text between matches, or merges it with them, per split behaviour), have no Metaspace, and its BERT one
/// (<c>\w+|\p{P}</c>) drops symbols such as "$" and "+" and keeps "_" inside words, where BERT isolates all three.
/// </remarks>
abstract class TextSplitter
{
    /// <summary>GPT-2's word regex, used by the ByteLevel pre-tokenizer.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    static readonly Regex Gpt2Regex = TextPattern.Compile(Gpt2Pattern, null);

    /// <summary>Splits <paramref name="text"/> into words, appending them to <paramref name="words"/>.</summary>
    /// <param name="text">Normalized text.</param>
    /// <param name="atStart">The text starts the input (Metaspace's "first" prepend scheme looks at this).</param>
    /// <param name="words">Receives the words, in order.</param>
    public abstract void Split(string text, bool atStart, List<string> words);

    /// <summary>No pre-tokenizer: the whole text is one word.</summary>
    public static readonly TextSplitter None = new Whole();

    public static TextSplitter ByteLevel(bool addPrefixSpace, bool useRegex) => new ByteLevelSplitter(addPrefixSpace, useRegex);

    public static TextSplitter Bert() => new CharClassSplitter(punctuationIsolated: true);

    public static TextSplitter Metaspace(char replacement, PrependScheme scheme, bool split) => new MetaspaceSplitter(replacement, scheme, split);

    /// <summary>When Metaspace puts the replacement character in front of a text.</summary>
    public enum PrependScheme { Always, First, Never }

    /// <summary>What Hugging Face's Split does with each match of its pattern.</summary>
    public enum Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

    /// <summary>Reads tokenizer.json's "pre_tokenizer" (<see cref="None"/> when there is none).</summary>
    public static TextSplitter FromJson(JsonField? node)
    {
        if (node is not { } n) return None;
        string type = n.String("type");
        return type switch
        {
            "ByteLevel" => ByteLevel(n.Bool("add_prefix_space", true), n.Bool("use_regex", true)),
            "BertPreTokenizer" => Bert(),
            "WhitespaceSplit" => new CharClassSplitter(punctuationIsolated: false),
            "Whitespace" => new RegexSplitter(new Regex(@"\w+|[^\w\s]+", RegexOptions.CultureInvariant), Behavior.Removed, invert: true),
            "Metaspace" => Metaspace(ReadChar(n.Require("replacement")), ReadScheme(n), n.Bool("split", true)),
            "Split" => new RegexSplitter(TextPattern.FromJson(n.Require("pattern")), ReadBehavior(n.Require("behavior")), n.Bool("invert", false)),
            "Digits" => new RegexSplitter(new Regex(n.Bool("individual_digits", false) ? @"\p{N}" : @"\p{N}+", RegexOptions.CultureInvariant), Behavior.Isolated, invert: false),
            "Punctuation" => new RegexSplitter(new Regex(@"[\p{P}!-/:-@\[-`{-~]", RegexOptions.CultureInvariant), n.Has("behavior") ? ReadBehavior(n.Require("behavior")) : Behavior.Isolated, invert: false),
            "Sequence" => new SequenceSplitter(n.Require("pretokenizers").Items().Select(item => FromJson(item)).ToList()),
            _ => throw n.Require("type").Error($"pre-tokenizer type '{type}' is not supported (supported: ByteLevel, BertPreTokenizer, Whitespace, WhitespaceSplit, Metaspace, Split, Digits, Punctuation, Sequence)"),
        };
    }

    static char ReadChar(JsonField node)
    {
        string s = node.AsString();
        return s.Length == 1 ? s[0] : throw node.Error($"must be a single character, found '{s}'");
    }

    static PrependScheme ReadScheme(JsonField n)
    {
        // Older files carry add_prefix_space instead of prepend_scheme.
        if (n.BoolOrNull("add_prefix_space") == false) return PrependScheme.Never;
        if (n.Get("prepend_scheme") is not { } scheme) return PrependScheme.Always;
        return scheme.AsString() switch
        {
            "always" => PrependScheme.Always,
            "first" => PrependScheme.First,
            "never" => PrependScheme.Never,
            var other => throw scheme.Error($"must be \"always\", \"first\" or \"never\", found \"{other}\""),
        };
    }

    static Behavior ReadBehavior(JsonField node) => node.AsString() switch
    {
        "Removed" => Behavior.Removed,
        "Isolated" => Behavior.Isolated,
        "MergedWithPrevious" => Behavior.MergedWithPrevious,
        "MergedWithNext" => Behavior.MergedWithNext,
        "Contiguous" => Behavior.Contiguous,
        var other => throw node.Error($"split behaviour '{other}' is unknown"),
    };

    /// <summary>
    /// Hugging Face's NormalizedString.split: the text is covered by alternating gaps and matches, then matches
    /// are removed, isolated, or merged with a neighbour; empty pieces are dropped.
    /// </summary>
    static void SplitByMatches(string text, IEnumerable<(int Start, int End)> matches, Behavior behavior, bool invert, List<string> words)
    {
        var spans = new List<(int Start, int End, bool IsMatch)>();
        int previous = 0;
        foreach (var (start, end) in matches)
        {
            if (previous != start) spans.Add((previous, start, invert));
            spans.Add((start, end, !invert));
            previous = end;
        }
        if (previous != text.Length) spans.Add((previous, text.Length, invert));

        var kept = new List<(int Start, int End)>();
        bool previousMatch = false;
        switch (behavior)
        {
            case Behavior.Removed:
                kept.AddRange(spans.Where(s => !s.IsMatch).Select(s => (s.Start, s.End)));
                break;
            case Behavior.Isolated:
                kept.AddRange(spans.Select(s => (s.Start, s.End)));
                break;
            case Behavior.Contiguous:
                foreach (var s in spans)
                {
                    if (s.IsMatch == previousMatch && kept.Count > 0) kept[^1] = (kept[^1].Start, s.End);
                    else kept.Add((s.Start, s.End));
                    previousMatch = s.IsMatch;
                }
                break;
            case Behavior.MergedWithPrevious:
                foreach (var s in spans)
                {
                    if (s.IsMatch && !previousMatch && kept.Count > 0) kept[^1] = (kept[^1].Start, s.End);
                    else kept.Add((s.Start, s.End));
                    previousMatch = s.IsMatch;
                }
                break;
            case Behavior.MergedWithNext:
                for (int i = spans.Count - 1; i >= 0; i--)
                {
                    var s = spans[i];
                    if (s.IsMatch && !previousMatch && kept.Count > 0) kept[^1] = (s.Start, kept[^1].End);
                    else kept.Add((s.Start, s.End));
                    previousMatch = s.IsMatch;
                }
                kept.Reverse();
                break;
        }
        foreach (var (start, end) in kept)
            if (end > start) words.Add(text[start..end]);
    }

    static IEnumerable<(int, int)> RegexMatches(Regex regex, string text) =>
        regex.Matches(text).Where(m => m.Length > 0).Select(m => (m.Index, m.Index + m.Length));

    sealed class Whole : TextSplitter
    {
        public override void Split(string text, bool atStart, List<string> words)
        {
            if (text.Length > 0) words.Add(text);
        }
    }

    sealed class ByteLevelSplitter(bool addPrefixSpace, bool useRegex) : TextSplitter
    {
        public override void Split(string text, bool atStart, List<string> words)
        {
            if (addPrefixSpace && !text.StartsWith(' ')) text = " " + text;
            if (useRegex) SplitByMatches(text, RegexMatches(Gpt2Regex, text), Behavior.Isolated, invert: false, words);
            else if (text.Length > 0) words.Add(text);
        }
    }

    sealed class RegexSplitter(Regex regex, Behavior behavior, bool invert) : TextSplitter
    {
        public override void Split(string text, bool atStart, List<string> words) =>
            SplitByMatches(text, RegexMatches(regex, text), behavior, invert, words);
    }

    sealed class MetaspaceSplitter(char replacement, PrependScheme scheme, bool split) : TextSplitter
    {
        public override void Split(string text, bool atStart, List<string> words)
        {
            text = text.Replace(' ', replacement);
            bool prepend = scheme == PrependScheme.Always || scheme == PrependScheme.First && atStart;
            if (prepend && !text.StartsWith(replacement)) text = replacement + text;
            if (!split)
            {
                if (text.Length > 0) words.Add(text);
                return;
            }
            var matches = new List<(int, int)>();
            for (int i = 0; i < text.Length; i++)
                if (text[i] == replacement) matches.Add((i, i + 1));
            SplitByMatches(text, matches, Behavior.MergedWithNext, invert: false, words);
        }
    }

    /// <summary>Whitespace split (whitespace removed), optionally with BERT's punctuation isolated.</summary>
    sealed class CharClassSplitter(bool punctuationIsolated) : TextSplitter
    {
        public override void Split(string text, bool atStart, List<string> words)
        {
            var current = new StringBuilder();
            foreach (var rune in text.EnumerateRunes())
            {
                if (Rune.IsWhiteSpace(rune))
                {
                    Flush(current, words);
                }
                else if (punctuationIsolated && IsBertPunctuation(rune))
                {
                    Flush(current, words);
                    words.Add(rune.ToString());
                }
                else
                {
                    current.Append(rune.ToString());
                }
            }
            Flush(current, words);
        }

        static void Flush(StringBuilder current, List<string> words)
        {
            if (current.Length == 0) return;
            words.Add(current.ToString());
            current.Clear();
        }

        // ASCII punctuation includes symbols such as $ + < = > ^ ` | ~; beyond ASCII, the Unicode P* categories.
        static bool IsBertPunctuation(Rune rune) =>
            rune.Value is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126
            || Rune.GetUnicodeCategory(rune) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
                or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    sealed class SequenceSplitter(IReadOnlyList<TextSplitter> steps) : TextSplitter
    {
        public override void Split(string text, bool atStart, List<string> words)
        {
            var pieces = new List<string> { text };
            foreach (var step in steps)
            {
                var next = new List<string>();
                for (int i = 0; i < pieces.Count; i++) step.Split(pieces[i], atStart && i == 0, next);
                pieces = next;
            }
            words.AddRange(pieces);
        }
    }
}
