using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Modules;

/// <summary>
/// GPT-2's "Conv1D": a linear layer whose weight is stored transposed, [in_features, out_features], so that
/// checkpoint keys and shapes match Hugging Face's. y = x @ weight + bias.
/// </summary>
public sealed class Conv1D : nn.Module<Tensor, Tensor>
{
    public Conv1D(Parameter weight, Parameter bias) : base(nameof(Conv1D))
    {
        if (weight.dim() != 2) throw new ArgumentException("Conv1D weight must be [in, out]", nameof(weight));
        if (bias.dim() != 1 || bias.shape[0] != weight.shape[1]) throw new ArgumentException("Conv1D bias must be [out]", nameof(bias));
        this.weight = weight;
        this.bias = bias;
        register_parameter("weight", weight);
        register_parameter("bias", bias);
    }

    /// <summary>Children are registered explicitly under Hugging Face's names; no field reflection.</summary>
    protected override void RegisterComponents() { }

    /// <summary>[in_features, out_features].</summary>
    public Parameter weight { get; private set; }

    /// <summary>[out_features].</summary>
    public Parameter bias { get; private set; }

    public long InFeatures => weight.shape[0];
    public long OutFeatures => weight.shape[1];

    /// <summary>x: [..., in] -> [..., out].</summary>
    public override Tensor forward(Tensor input) => nn.functional.linear(input, weight.t(), bias);
}
