using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Modules;

/// <summary>
/// Root-mean-square layer norm (Zhang and Sennrich 2019) as Llama uses it:
/// y = weight * (x / sqrt(mean(x^2) + eps)), the normalisation computed in float32 and cast back.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    public RmsNorm(Parameter weight, double eps) : base(nameof(RmsNorm))
    {
        this.weight = weight;
        Eps = eps;
        register_parameter("weight", weight);
    }

    /// <summary>Children are registered explicitly under Hugging Face's names; no field reflection.</summary>
    protected override void RegisterComponents() { }

    /// <summary>[hidden].</summary>
    public Parameter weight { get; }

    public double Eps { get; }

    /// <summary>x: [..., hidden] -> [..., hidden].</summary>
    public override Tensor forward(Tensor input) => Apply(input, weight, Eps);

    /// <summary>The normalisation with a given weight [hidden] (methods that train a copy of the weight use this).</summary>
    public static Tensor Apply(Tensor input, Tensor weight, double eps)
    {
        using var scope = NewDisposeScope();
        var x = input.to(ScalarType.Float32);
        var variance = x.pow(2).mean(new long[] { -1 }, keepdim: true);
        x = x * rsqrt(variance + eps);
        return (weight * x.to(input.dtype)).MoveToOuterDisposeScope();
    }
}
