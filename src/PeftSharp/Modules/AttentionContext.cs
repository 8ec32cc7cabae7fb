using static TorchSharp.torch;

namespace PeftSharp.Modules;

/// <summary>Per-forward-pass state every attention layer of a model shares.</summary>
public sealed record AttentionContext
{
    /// <summary>Additive mask [B, 1, T, S] (see <see cref="AttentionMasks.Additive"/>).</summary>
    public required Tensor Mask { get; init; }

    /// <summary>Position ids [B, T].</summary>
    public required Tensor PositionIds { get; init; }

    /// <summary>Keys and values of earlier positions or prefixes; each layer appends its own.</summary>
    public KvCache? Cache { get; init; }

    /// <summary>Rotary cos/sin tables [B, T, head_dim] for rotary models.</summary>
    public (Tensor Cos, Tensor Sin)? Rotary { get; init; }

    /// <summary>
    /// Whether block loops run their blocks through <see cref="Training.ActivationCheckpoint"/> (set from
    /// <see cref="Models.TransformerModel.GradientCheckpointing"/>; it takes effect only in training mode with gradients on).
    /// </summary>
    public bool CheckpointBlocks { get; init; }
}
