using PeftSharp.Models;
using static TorchSharp.torch;

namespace PeftSharp.Tasks;

/// <summary>Pads encoded examples to the longest in the batch (right padding) and builds the input tensors.</summary>
static class BatchTensors
{
    /// <summary>The ignored label of cross-entropy (PyTorch's and Hugging Face's -100).</summary>
    public const int IgnoreIndex = -100;

    /// <summary>
    /// Model inputs [B, T]: ids padded with <paramref name="padId"/>, attention mask 1 on real tokens; token type ids
    /// only when some example has a non-zero one (GPT-2 would otherwise add type embeddings of zeros).
    /// </summary>
    public static ModelInputs Inputs(IReadOnlyList<EncodedExample> rows, long padId, IReadOnlyList<int[]>? ids = null)
    {
        int length = rows.Max(r => r.Length);
        var idData = new long[rows.Count * length];
        var maskData = new long[rows.Count * length];
        long[]? typeData = rows.Any(r => r.TypeIds?.Any(t => t != 0) == true) ? new long[rows.Count * length] : null;
        for (int b = 0; b < rows.Count; b++)
        {
            var rowIds = ids?[b] ?? rows[b].Ids;
            for (int t = 0; t < length; t++)
            {
                bool real = t < rowIds.Length;
                idData[b * length + t] = real ? rowIds[t] : padId;
                maskData[b * length + t] = real ? 1 : 0;
                if (typeData is not null && real && rows[b].TypeIds is { } types) typeData[b * length + t] = types[t];
            }
        }
        long[] shape = [rows.Count, length];
        return new ModelInputs
        {
            InputIds = tensor(idData, shape, ScalarType.Int64),
            AttentionMask = tensor(maskData, shape, ScalarType.Int64),
            TokenTypeIds = typeData is null ? null : tensor(typeData, shape, ScalarType.Int64),
        };
    }

    /// <summary>Per-token labels [B, T], -100 on padding.</summary>
    public static Tensor TokenLabels(IReadOnlyList<int[]> labels)
    {
        int length = labels.Max(l => l.Length);
        var data = new long[labels.Count * length];
        Array.Fill(data, IgnoreIndex);
        for (int b = 0; b < labels.Count; b++)
            for (int t = 0; t < labels[b].Length; t++) data[b * length + t] = labels[b][t];
        return tensor(data, new long[] { labels.Count, length }, ScalarType.Int64);
    }
}
