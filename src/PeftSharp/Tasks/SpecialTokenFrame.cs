using PeftSharp.Tokenization;

namespace PeftSharp.Tasks;

/// <summary>
/// The special tokens a tokenizer's template puts before and after a single sequence (BERT: [CLS] and [SEP];
/// Llama: BOS; GPT-2: none), found by encoding a probe with and without them. Tasks that assemble ids from
/// several pieces (words, prompt and completion, chunks of a long text) wrap them in this frame.
/// </summary>
sealed record SpecialTokenFrame(int[] Prefix, int[] Suffix)
{
    public int Count => Prefix.Length + Suffix.Length;

    public static SpecialTokenFrame Of(PretrainedTokenizer tokenizer)
    {
        const string probe = "a";
        var plain = tokenizer.Encode(probe, addSpecialTokens: false).Ids;
        var full = tokenizer.Encode(probe).Ids;
        for (int start = 0; start + plain.Count <= full.Count; start++)
        {
            bool match = true;
            for (int i = 0; i < plain.Count && match; i++) match = full[start + i] == plain[i];
            if (match) return new SpecialTokenFrame(full.Take(start).ToArray(), full.Skip(start + plain.Count).ToArray());
        }
        throw new InvalidOperationException($"the tokenizer's template does not keep the text's tokens together (\"{probe}\" gives [{string.Join(", ", plain)}] alone and [{string.Join(", ", full)}] with special tokens)");
    }

    /// <summary>Prefix + content + suffix.</summary>
    public int[] Wrap(IEnumerable<int> content) => [.. Prefix, .. content, .. Suffix];
}
