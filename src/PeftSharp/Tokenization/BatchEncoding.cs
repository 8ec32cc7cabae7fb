using static TorchSharp.torch;

namespace PeftSharp.Tokenization;

/// <summary>
/// A padded batch: int64 tensors <see cref="InputIds"/>, <see cref="AttentionMask"/> and <see cref="TokenTypeIds"/>,
/// all [B, T], plus the same values as lists in <see cref="Rows"/>. Owns the tensors: dispose it.
/// </summary>
public sealed class BatchEncoding : IDisposable
{
    internal BatchEncoding(IReadOnlyList<EncodedInput> rows, int sequenceLength)
    {
        Rows = rows;
        SequenceLength = sequenceLength;
        InputIds = ToTensor(rows, sequenceLength, r => r.Ids);
        AttentionMask = ToTensor(rows, sequenceLength, r => r.AttentionMask);
        TokenTypeIds = ToTensor(rows, sequenceLength, r => r.TokenTypeIds);
    }

    /// <summary>Token ids, [B, T] int64.</summary>
    public Tensor InputIds { get; }

    /// <summary>1 for real tokens, 0 for padding, [B, T] int64.</summary>
    public Tensor AttentionMask { get; }

    /// <summary>Segment ids (0 first sequence, 1 second), [B, T] int64.</summary>
    public Tensor TokenTypeIds { get; }

    /// <summary>The rows as lists, padded like the tensors.</summary>
    public IReadOnlyList<EncodedInput> Rows { get; }

    /// <summary>B.</summary>
    public int BatchSize => Rows.Count;

    /// <summary>T.</summary>
    public int SequenceLength { get; }

    static Tensor ToTensor(IReadOnlyList<EncodedInput> rows, int length, Func<EncodedInput, IReadOnlyList<int>> select)
    {
        var data = new long[rows.Count * length];
        for (int b = 0; b < rows.Count; b++)
        {
            var values = select(rows[b]);
            for (int t = 0; t < length; t++) data[b * length + t] = values[t];
        }
        return tensor(data, new long[] { rows.Count, length }, ScalarType.Int64);
    }

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        TokenTypeIds.Dispose();
    }
}
