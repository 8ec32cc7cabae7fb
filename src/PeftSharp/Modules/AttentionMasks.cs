using static TorchSharp.torch;

namespace PeftSharp.Modules;

/// <summary>Builds the additive masks and position ids every attention layer uses.</summary>
public static class AttentionMasks
{
    /// <summary>
    /// Additive mask [B, 1, T, S] (0 where a query may attend, the dtype's lowest value elsewhere) from a padding
    /// mask [B, S] (1 = real token) covering S = past + T key positions. With <paramref name="causal"/>, query t
    /// (absolute position past + t) sees keys up to past + t, and with a <paramref name="slidingWindow"/> W only the
    /// last W of them (Mistral). A query whose every key is masked (a padding row)
    /// attends to nothing real but stays finite, as Hugging Face's finfo.min masks do.
    /// </summary>
    public static Tensor Additive(Tensor paddingMask, long queryLength, bool causal, ScalarType dtype, int? slidingWindow = null)
    {
        using var scope = NewDisposeScope();
        long keyLength = paddingMask.shape[1];
        long past = keyLength - queryLength;
        if (past < 0) throw new ArgumentException($"attention mask covers {keyLength} positions, fewer than the {queryLength} queries");
        var allowed = paddingMask.to(ScalarType.Bool).unsqueeze(1).unsqueeze(1);                    // [B, 1, 1, S]
        if (causal)
        {
            var queryPositions = arange(past, keyLength, device: paddingMask.device).unsqueeze(1); // [T, 1]
            var keyPositions = arange(0, keyLength, device: paddingMask.device).unsqueeze(0);      // [1, S]
            var visible = keyPositions <= queryPositions;                                          // [T, S]
            if (slidingWindow is int window) visible = visible.logical_and(queryPositions - keyPositions < window);
            allowed = allowed.logical_and(visible);                                                 // [B, 1, T, S]
        }
        else
        {
            allowed = allowed.expand(-1, -1, queryLength, -1);
        }
        var lowest = LowestValue(dtype);
        return zeros(allowed.shape, dtype, paddingMask.device).masked_fill(allowed.logical_not(), lowest).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Position ids [B, T] that count only real tokens: cumsum(mask) - 1 over the S = past + T positions, last T
    /// columns, padding clamped to 0. Left- and right-padded rows thus get the positions they would have alone.
    /// </summary>
    public static Tensor PositionIds(Tensor paddingMask, long queryLength)
    {
        using var scope = NewDisposeScope();
        var counts = paddingMask.to(ScalarType.Int64).cumsum(1) - 1;
        var last = counts.narrow(1, counts.shape[1] - queryLength, queryLength);
        return last.clamp_min(0).MoveToOuterDisposeScope();
    }

    /// <summary>An all-ones padding mask [B, S].</summary>
    public static Tensor AllOnes(long batch, long length, Device device) => ones(batch, length, ScalarType.Int64, device);

    static double LowestValue(ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 => -65504.0,
        ScalarType.BFloat16 => -3.3895313892515355e38,
        ScalarType.Float64 => double.MinValue,
        _ => float.MinValue,
    };
}
