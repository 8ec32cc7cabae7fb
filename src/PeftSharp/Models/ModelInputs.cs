using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models;

/// <summary>
/// What a model's forward pass takes. Give <see cref="InputIds"/> or <see cref="InputsEmbeds"/>.
/// </summary>
public sealed record ModelInputs
{
    /// <summary>Token ids [B, T], int64.</summary>
    public Tensor? InputIds { get; init; }

    /// <summary>Input embeddings [B, T, H], in place of <see cref="InputIds"/> (prompt tuning prepends to these).</summary>
    public Tensor? InputsEmbeds { get; init; }

    /// <summary>
    /// Padding mask [B, S] over every key position, S = cached positions + T (1 = real token, 0 = padding).
    /// Null means all real.
    /// </summary>
    public Tensor? AttentionMask { get; init; }

    /// <summary>Position ids [B, T]. Null: counted from the attention mask, so padding does not shift them.</summary>
    public Tensor? PositionIds { get; init; }

    /// <summary>Segment ids [B, T] for encoders with token-type embeddings (BERT). Null: all zero.</summary>
    public Tensor? TokenTypeIds { get; init; }

    /// <summary>Keys and values of earlier positions (incremental decoding) or learned prefixes; extended in place.</summary>
    public KvCache? Cache { get; init; }

    /// <summary>Batch size and length [B, T] of the inputs.</summary>
    public (long Batch, long Length) Shape()
    {
        if (InputIds is { } ids) return (ids.shape[0], ids.shape[1]);
        if (InputsEmbeds is { } embeds) return (embeds.shape[0], embeds.shape[1]);
        throw new ArgumentException("model inputs need InputIds or InputsEmbeds");
    }
}

/// <summary>What a model's forward pass returns.</summary>
public sealed record ModelOutputs
{
    /// <summary>Final hidden states [B, T, H] (after the final norm where the model has one).</summary>
    public required Tensor LastHiddenState { get; init; }

    /// <summary>Head output: [B, T, V] for language models, [B, labels] for sequence classification, [B, T, labels] for token classification.</summary>
    public Tensor? Logits { get; init; }

    /// <summary>Pooled sequence representation [B, H] where the model has a pooler (BERT).</summary>
    public Tensor? PooledOutput { get; init; }
}
