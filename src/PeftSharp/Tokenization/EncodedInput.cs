namespace PeftSharp.Tokenization;

/// <summary>One encoded sequence (or pair of sequences), special tokens and any padding included.</summary>
public sealed class EncodedInput
{
    public EncodedInput(IReadOnlyList<int> ids, IReadOnlyList<int> tokenTypeIds, IReadOnlyList<int> attentionMask)
    {
        if (tokenTypeIds.Count != ids.Count) throw new ArgumentException($"{tokenTypeIds.Count} token type ids for {ids.Count} ids", nameof(tokenTypeIds));
        if (attentionMask.Count != ids.Count) throw new ArgumentException($"{attentionMask.Count} mask entries for {ids.Count} ids", nameof(attentionMask));
        Ids = ids;
        TokenTypeIds = tokenTypeIds;
        AttentionMask = attentionMask;
    }

    /// <summary>Token ids.</summary>
    public IReadOnlyList<int> Ids { get; }

    /// <summary>Segment of each token: 0 for the first sequence, 1 for the second where the template says so (BERT).</summary>
    public IReadOnlyList<int> TokenTypeIds { get; }

    /// <summary>1 for real tokens, 0 for padding.</summary>
    public IReadOnlyList<int> AttentionMask { get; }

    /// <summary>Number of tokens, padding included.</summary>
    public int Length => Ids.Count;
}
