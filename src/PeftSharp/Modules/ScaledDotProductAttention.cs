using static TorchSharp.torch;

namespace PeftSharp.Modules;

/// <summary>
/// The attention step every family shares once it has projected queries, keys and values: prepend cached or
/// prefix keys/values, widen grouped key/value heads to the query heads, mask, and softmax(q k^T / sqrt(d)) v.
/// </summary>
public static class ScaledDotProductAttention
{
    /// <summary>
    /// queries [B, H, T, D]; keys and values [B, Hkv, T, D] with H a multiple of Hkv. Returns [B, T, H * D].
    /// </summary>
    public static Tensor Compute(Tensor queries, Tensor keys, Tensor values, int layerIndex, AttentionContext context, double dropout)
    {
        using var scope = NewDisposeScope();
        if (context.Cache is { } cache) (keys, values) = cache.Append(layerIndex, keys, values);
        long heads = queries.shape[1], kvHeads = keys.shape[1];
        if (heads != kvHeads)
        {
            if (heads % kvHeads != 0) throw new ArgumentException($"{heads} query heads cannot share {kvHeads} key/value heads");
            keys = keys.repeat_interleave(heads / kvHeads, 1);
            values = values.repeat_interleave(heads / kvHeads, 1);
        }
        long keyLength = keys.shape[2];
        if (context.Mask.shape[^1] != keyLength)
            throw new ArgumentException(
                $"attention mask covers {context.Mask.shape[^1]} key positions but layer {layerIndex} attends over {keyLength} " +
                "(cached or prefix positions included); the mask must span cache + inputs");
        var output = nn.functional.scaled_dot_product_attention(queries, keys, values, context.Mask.to(queries.dtype), dropout);
        long batch = output.shape[0], length = output.shape[2];
        return output.transpose(1, 2).reshape(batch, length, -1).MoveToOuterDisposeScope();
    }

    /// <summary>Splits projections [B, T, heads * D] into [B, heads, T, D].</summary>
    public static Tensor SplitHeads(Tensor projected, long heads)
    {
        long batch = projected.shape[0], length = projected.shape[1];
        return projected.view(batch, length, heads, -1).transpose(1, 2);
    }
}
