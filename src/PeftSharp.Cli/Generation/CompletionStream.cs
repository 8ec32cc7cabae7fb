using PeftSharp.Tokenization;

namespace PeftSharp.Cli.Generation;

/// <summary>
/// Turns generated token ids into text as they arrive. The completion is the decoded prompt + new tokens minus the
/// decoded prompt, so a leading "▁" keeps its space and byte-fallback pieces join across tokens; special tokens (EOS)
/// are left out. Text is released only when it cannot change any more: an incomplete UTF-8 sequence (U+FFFD at the
/// end) or the start of a stop text is held back. A stop text ends the completion, which excludes it.
/// </summary>
sealed class CompletionStream
{
    readonly PretrainedTokenizer _tokenizer;
    readonly IReadOnlyList<int> _prompt;
    readonly string _promptText;
    readonly IReadOnlyList<string> _stopTexts;
    readonly List<int> _textIds = new();
    readonly List<long> _tokens = new();
    string _text = "";
    int _released;

    public CompletionStream(PretrainedTokenizer tokenizer, IReadOnlyList<int> promptIds, IReadOnlyList<string> stopTexts)
    {
        _tokenizer = tokenizer;
        _prompt = promptIds;
        _promptText = tokenizer.Decode(promptIds);
        _stopTexts = stopTexts.Where(s => s.Length > 0).ToList();
    }

    /// <summary>Every generated token id, stop token included.</summary>
    public IReadOnlyList<long> Tokens => _tokens;

    /// <summary>Index in the text where a stop text begins, once one has appeared.</summary>
    public int? StopTextAt { get; private set; }

    /// <summary>The completion so far (up to a stop text, if one appeared).</summary>
    public string Completion => StopTextAt is int at ? _text[..at] : _text;

    /// <summary>Adds a token; returns the text that became final with it (possibly empty).</summary>
    public string Add(long id)
    {
        _tokens.Add(id);
        if (StopTextAt is not null) return "";
        if (id is >= 0 and <= int.MaxValue && !_tokenizer.SpecialTokenIds.Contains((int)id))
        {
            _textIds.Add((int)id);
            string full = _tokenizer.Decode(_prompt.Concat(_textIds));
            _text = full.StartsWith(_promptText, StringComparison.Ordinal) ? full[_promptText.Length..] : _tokenizer.Decode(_textIds);
            FindStopText();
        }
        return Release(final: StopTextAt is not null);
    }

    /// <summary>Releases whatever is still held back (call when generation has ended).</summary>
    public string Flush() => Release(final: true);

    void FindStopText()
    {
        int from = Math.Max(0, _released - _stopTexts.DefaultIfEmpty("").Max(s => s.Length));
        foreach (string stop in _stopTexts)
        {
            int at = _text.IndexOf(stop, from, StringComparison.Ordinal);
            if (at >= 0 && (StopTextAt is null || at < StopTextAt)) StopTextAt = at;
        }
    }

    string Release(bool final)
    {
        string text = Completion;
        int end = final ? text.Length : SafeEnd(text);
        // Decoding the longer sequence can in principle rewrite earlier text; what was released stays released.
        if (end <= _released) return "";
        string released = text[_released..end];
        _released = end;
        return released;
    }

    /// <summary>Length of the prefix of <paramref name="text"/> that later tokens cannot change.</summary>
    int SafeEnd(string text)
    {
        int end = text.Length;
        while (end > 0 && text[end - 1] == '\uFFFD') end--;
        int held = 0;
        foreach (string stop in _stopTexts)
            for (int length = Math.Min(stop.Length - 1, end); length > held; length--)
                if (string.CompareOrdinal(text, end - length, stop, 0, length) == 0)
                {
                    held = length;
                    break;
                }
        end -= held;
        return end;
    }
}
