using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models;

/// <summary>Turns <see cref="ModelInputs"/> into the padding mask and <see cref="AttentionContext"/> every family needs.</summary>
public static class ForwardPreparation
{
    /// <summary>
    /// Checks the inputs and fills in defaults: the padding mask [B, past + T] (all ones), position ids counted from
    /// it, and the additive attention mask. <paramref name="slidingWindow"/> limits how far back a causal query sees.
    /// </summary>
    public static (Tensor PaddingMask, AttentionContext Context) Prepare(ModelInputs inputs, bool causal, ScalarType dtype, Device device, int? slidingWindow = null)
    {
        if (inputs.InputIds is null == inputs.InputsEmbeds is null)
            throw new ArgumentException("give exactly one of InputIds and InputsEmbeds");
        var (batch, length) = inputs.Shape();
        long past = inputs.Cache?.Length ?? 0;
        var paddingMask = inputs.AttentionMask ?? AttentionMasks.AllOnes(batch, past + length, device);
        if (paddingMask.dim() != 2 || paddingMask.shape[0] != batch || paddingMask.shape[1] != past + length)
            throw new ArgumentException(
                $"attention mask has shape [{string.Join(", ", paddingMask.shape)}]; expected [{batch}, {past + length}] " +
                $"({(past > 0 ? $"{past} cached or prefix positions + " : "")}{length} input positions)");
        var positions = inputs.PositionIds ?? AttentionMasks.PositionIds(paddingMask, length);
        if (positions.shape.Length != 2 || positions.shape[1] != length)
            throw new ArgumentException($"position ids have shape [{string.Join(", ", positions.shape)}]; expected [{batch}, {length}]");
        var mask = AttentionMasks.Additive(paddingMask, length, causal, dtype, slidingWindow);
        return (paddingMask, new AttentionContext { Mask = mask, PositionIds = positions, Cache = inputs.Cache });
    }

    /// <summary>
    /// Fails with a clear message when a learned position table of <paramref name="maxPositions"/> rows has no row for
    /// some position id [B, T] (an input, or a cache plus input, longer than the model's context).
    /// </summary>
    public static void CheckPositions(Tensor positionIds, int maxPositions)
    {
        long largest = positionIds.numel() == 0 ? 0 : positionIds.max().item<long>();
        if (largest >= maxPositions)
            throw new ArgumentException(
                $"position id {largest} is beyond the model's {maxPositions} learned positions (max_position_embeddings / n_positions); shorten the input");
    }

    /// <summary>Hidden state of each row's last real token: hidden [B, T, H], padding mask [B, S >= T] -> [B, H].</summary>
    public static Tensor LastRealToken(Tensor hidden, Tensor paddingMask)
    {
        using var scope = NewDisposeScope();
        long length = hidden.shape[1];
        var mask = paddingMask.narrow(1, paddingMask.shape[1] - length, length).to(ScalarType.Int64);
        var index = (mask * arange(length, device: hidden.device)).argmax(1);             // [B]
        var rows = arange(hidden.shape[0], device: hidden.device);
        return hidden[rows, index].MoveToOuterDisposeScope();
    }
}
