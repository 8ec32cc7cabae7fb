using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Modules;

/// <summary>
/// The one place model files create their parameterised layers. It fixes the dtype and device up front (so a
/// bf16 model never exists in fp32 first) and decides how weights start: Hugging Face's initialisation
/// (normal(0, std) weights, zero biases, unit norms) for a fresh model, or uninitialised memory when a
/// checkpoint will fill every tensor, which avoids spending seconds on random numbers that are overwritten.
/// </summary>
public sealed class LayerFactory
{
    public LayerFactory(ScalarType dtype, Device? device = null, bool initialize = true, double initializerRange = 0.02, Generator? generator = null)
    {
        if (!is_floating_point(empty(0, dtype)))
            throw new ArgumentException($"model dtype must be floating point, got {dtype}", nameof(dtype));
        DType = dtype;
        Device = device ?? CPU;
        Initialize = initialize;
        InitializerRange = initializerRange;
        Generator = generator;
    }

    public ScalarType DType { get; }
    public Device Device { get; }

    /// <summary>True: Hugging Face's random initialisation. False: uninitialised memory, to be loaded.</summary>
    public bool Initialize { get; }

    /// <summary>Standard deviation of the normal initialisation of weights (config "initializer_range").</summary>
    public double InitializerRange { get; }

    /// <summary>Source of randomness for initialisation; null uses the global generator.</summary>
    public Generator? Generator { get; }

    /// <summary>nn.Linear: weight [out, in], optional bias [out].</summary>
    public Linear Linear(long inFeatures, long outFeatures, bool bias = true)
    {
        // Built on the meta device so TorchSharp's own kaiming initialisation costs nothing, then given real tensors.
        var linear = nn.Linear(inFeatures, outFeatures, bias, device: META, dtype: DType);
        linear.weight = WeightParameter(outFeatures, inFeatures);
        if (bias) linear.bias = new Parameter(Zeros(outFeatures));
        return linear;
    }

    /// <summary>GPT-2's Conv1D: weight [in, out], bias [out].</summary>
    public Conv1D Conv1D(long inFeatures, long outFeatures) =>
        new(WeightParameter(inFeatures, outFeatures), new Parameter(Zeros(outFeatures)));

    /// <summary>nn.Embedding: weight [count, dim]; the padding row starts at zero as in Hugging Face.</summary>
    public Embedding Embedding(long count, long dim, long? paddingIndex = null)
    {
        long? pad = paddingIndex is long p && p >= 0 && p < count ? p : null;
        var weight = WeightParameter(count, dim);
        if (Initialize && pad is long row)
            using (no_grad()) weight[row].zero_();
        // TorchSharp's Embedding constructors fill a full-size table with random numbers first (seconds for a large
        // vocabulary), and Embedding_from_pretrained leaves that table registered in place of the given one. A tiny
        // module given the real table through the weight setter avoids both.
        var embedding = nn.Embedding(pad is long r ? r + 1 : 1, 1, padding_idx: pad, device: Device, dtype: DType);
        embedding.weight = weight;
        return embedding;
    }

    /// <summary>nn.LayerNorm over the last dimension, weight ones and bias zeros.</summary>
    public LayerNorm LayerNorm(long dim, double eps, bool bias = true)
    {
        var norm = nn.LayerNorm(dim, eps, elementwise_affine: true, bias: bias, device: Device, dtype: DType);
        return norm;
    }

    /// <summary>Llama's RMSNorm, weight ones.</summary>
    public RmsNorm RmsNorm(long dim, double eps) => new(new Parameter(ones(new[] { dim }, DType, Device)), eps);

    /// <summary>A fresh weight [rows, cols]: normal(0, InitializerRange) when initialising, else uninitialised.</summary>
    public Parameter WeightParameter(long rows, long cols)
    {
        var weight = empty(new[] { rows, cols }, DType, Device);
        if (Initialize)
            using (no_grad()) weight.normal_(0, InitializerRange, Generator);
        return new Parameter(weight);
    }

    Tensor Zeros(long size) => zeros(new[] { size }, DType, Device);
}
