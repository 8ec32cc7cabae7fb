using static TorchSharp.torch;

namespace PeftSharp.Modules;

/// <summary>How rotary frequencies are rescaled for longer contexts (config.json "rope_scaling").</summary>
/// <param name="Type">"linear" (positions divided by Factor) or "llama3" (Llama 3.1's frequency-band rescaling).</param>
/// <param name="Factor">How much longer the context is than in pre-training.</param>
/// <param name="LowFreqFactor">llama3: wavelengths above original / LowFreqFactor are divided by Factor.</param>
/// <param name="HighFreqFactor">llama3: wavelengths below original / HighFreqFactor are kept.</param>
/// <param name="OriginalMaxPositions">llama3: the pre-training context length.</param>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor = 1, double HighFreqFactor = 4, int OriginalMaxPositions = 8192)
{
    public static readonly IReadOnlyList<string> SupportedTypes = new[] { "linear", "llama3" };
}

/// <summary>
/// Rotary position embedding (Su et al. 2021) in Hugging Face's convention: the head dimension is split in
/// halves and rotated as q' = q * cos + rotate_half(q) * sin, where rotate_half(x) = cat(-x2, x1).
/// </summary>
public sealed class RotaryEmbedding
{
    readonly Tensor _inverseFrequencies; // [head_dim / 2], float32
    readonly double _positionScale;

    public RotaryEmbedding(int headDim, double theta, RopeScaling? scaling = null)
    {
        if (headDim % 2 != 0) throw new ArgumentException($"rotary head dimension must be even, got {headDim}", nameof(headDim));
        HeadDim = headDim;
        var inverse = 1.0 / pow(theta, arange(0, headDim, 2, ScalarType.Int64).to(ScalarType.Float32) / headDim);
        _positionScale = 1.0;
        if (scaling != null)
        {
            switch (scaling.Type)
            {
                case "linear":
                    _positionScale = 1.0 / scaling.Factor;
                    break;
                case "llama3":
                    inverse = Llama3Scale(inverse, scaling);
                    break;
                default:
                    throw new ArgumentException($"rope_scaling type '{scaling.Type}' is not supported (supported: {string.Join(", ", RopeScaling.SupportedTypes)})", nameof(scaling));
            }
        }
        _inverseFrequencies = inverse.to(ScalarType.Float32).DetachFromDisposeScope();
    }

    public int HeadDim { get; }

    /// <summary>cos and sin tables for the given positions: positionIds [B, T] -> two tensors [B, T, head_dim].</summary>
    public (Tensor Cos, Tensor Sin) Tables(Tensor positionIds, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var positions = positionIds.to(ScalarType.Float32) * _positionScale;                 // [B, T]
        var frequencies = positions.unsqueeze(-1) * _inverseFrequencies.to(positionIds.device); // [B, T, D/2]
        var angles = cat(new[] { frequencies, frequencies }, -1);                             // [B, T, D]
        return (angles.cos().to(dtype).MoveToOuterDisposeScope(), angles.sin().to(dtype).MoveToOuterDisposeScope());
    }

    /// <summary>Rotates x [B, heads, T, D] by tables [B, T, D].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var rotated = cat(new[] { -x.narrow(-1, half, half), x.narrow(-1, 0, half) }, -1);
        return (x * cos.unsqueeze(1) + rotated * sin.unsqueeze(1)).MoveToOuterDisposeScope();
    }

    /// <summary>Llama 3.1: keep high frequencies, divide low ones by the factor, interpolate between.</summary>
    static Tensor Llama3Scale(Tensor inverse, RopeScaling s)
    {
        double lowWavelength = s.OriginalMaxPositions / s.LowFreqFactor;
        double highWavelength = s.OriginalMaxPositions / s.HighFreqFactor;
        var wavelength = 2 * Math.PI / inverse;
        var scaled = where(wavelength > lowWavelength, inverse / s.Factor, inverse);
        var smooth = (s.OriginalMaxPositions / wavelength - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
        var smoothed = (1 - smooth) * scaled / s.Factor + smooth * scaled;
        var isMedium = (wavelength >= highWavelength).logical_and(wavelength <= lowWavelength);
        return where(isMedium, smoothed, scaled);
    }
}
