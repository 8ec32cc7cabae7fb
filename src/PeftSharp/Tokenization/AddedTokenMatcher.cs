using System.Text;

namespace PeftSharp.Tokenization;

/// <summary>
/// Cuts added tokens out of a text the way Hugging Face's AddedVocabulary does: leftmost-longest matches,
/// then <see cref="AddedToken.SingleWord"/>, <see cref="AddedToken.LStrip"/> and <see cref="AddedToken.RStrip"/>
/// applied to each match in order.
/// </summary>
/// <remarks>
/// Hand-written: Microsoft.ML.Tokenizers only splits on an exact special-token regex inside its own pre-tokenizers,
/// with no lstrip/rstrip/single-word rules and no separate pass over the normalized text.
/// </remarks>
sealed class AddedTokenMatcher
{
    /// <summary>A piece of the text: either plain text to tokenize or one added token.</summary>
    public readonly record struct Piece(int Start, int Length, AddedToken? Token);

    readonly Dictionary<char, (string Pattern, AddedToken Token)[]> _byFirstChar;

    /// <param name="patterns">What to look for and the token it stands for (the pattern differs from the
    /// token's content for normalized tokens, whose pattern is the normalized content).</param>
    public AddedTokenMatcher(IEnumerable<(string Pattern, AddedToken Token)> patterns)
    {
        _byFirstChar = patterns
            .Where(p => p.Pattern.Length > 0)
            .GroupBy(p => p.Pattern[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(p => p.Pattern.Length).ToArray());
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>Splits <paramref name="text"/> into plain pieces and added-token pieces, in order, dropping empty plain pieces.</summary>
    public List<Piece> Split(string text)
    {
        var pieces = new List<Piece>();
        int plainStart = 0;
        foreach (var (matchStart, matchEnd, token) in LeftmostLongest(text))
        {
            int start = matchStart, stop = matchEnd;
            if (token.SingleWord && (EndsWithWordChar(text, start) || StartsWithWordChar(text, stop))) continue;
            if (token.LStrip)
            {
                while (start > 0 && char.IsWhiteSpace(text[start - 1])) start--;
                start = Math.Max(start, plainStart);
            }
            if (token.RStrip)
                while (stop < text.Length && char.IsWhiteSpace(text[stop])) stop++;
            if (plainStart < start) pieces.Add(new Piece(plainStart, start - plainStart, null));
            pieces.Add(new Piece(start, stop - start, token));
            plainStart = stop;
        }
        if (plainStart < text.Length) pieces.Add(new Piece(plainStart, text.Length - plainStart, null));
        return pieces;
    }

    /// <summary>Non-overlapping matches, scanning left to right and taking the longest pattern at each position.</summary>
    IEnumerable<(int Start, int End, AddedToken Token)> LeftmostLongest(string text)
    {
        int i = 0;
        while (i < text.Length)
        {
            int length = 0;
            AddedToken? found = null;
            if (_byFirstChar.TryGetValue(text[i], out var candidates))
            {
                foreach (var (pattern, token) in candidates)
                {
                    if (pattern.Length <= text.Length - i && string.CompareOrdinal(text, i, pattern, 0, pattern.Length) == 0)
                    {
                        (length, found) = (pattern.Length, token);
                        break;
                    }
                }
            }
            if (found is null) { i++; continue; }
            yield return (i, i + length, found);
            i += length;
        }
    }

    // Hugging Face tests `\w$` on the text before the match and `^\w` on the text after it.
    static bool EndsWithWordChar(string text, int index) =>
        index > 0 && Rune.DecodeLastFromUtf16(text.AsSpan(0, index), out var rune, out _) == System.Buffers.OperationStatus.Done && IsWordRune(rune);

    static bool StartsWithWordChar(string text, int index) =>
        index < text.Length && Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out _) == System.Buffers.OperationStatus.Done && IsWordRune(rune);

    static bool IsWordRune(Rune rune) => Rune.IsLetterOrDigit(rune) || Rune.GetUnicodeCategory(rune) is
        System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark
        or System.Globalization.UnicodeCategory.EnclosingMark or System.Globalization.UnicodeCategory.ConnectorPunctuation
        or System.Globalization.UnicodeCategory.LetterNumber;
}
