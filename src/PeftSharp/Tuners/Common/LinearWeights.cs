using PeftSharp.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Common;

/// <summary>A linear layer of a kind PeftSharp does not know natively (e.g. a quantised one) exposes its weight through this.</summary>
public interface ILinearWeight
{
    long InFeatures { get; }
    long OutFeatures { get; }

    /// <summary>The weight as [out, in] in the layer's compute dtype (dequantised if stored otherwise).</summary>
    Tensor WeightOutIn();

    /// <summary>Replaces the weight with <paramref name="weightOutIn"/> [out, in] (re-quantising if stored otherwise).</summary>
    void SetWeightOutIn(Tensor weightOutIn);

    /// <summary>[out] or null.</summary>
    Tensor? Bias { get; }
}

/// <summary>One view over nn.Linear (weight [out, in]), GPT-2's Conv1D (weight [in, out]) and <see cref="ILinearWeight"/> layers.</summary>
public static class LinearWeights
{
    public static bool IsLinear(nn.Module module) => module is Linear or Conv1D or ILinearWeight;

    public static (long In, long Out) Features(nn.Module module) => module switch
    {
        Linear linear => (linear.in_features, linear.out_features),
        Conv1D conv => (conv.InFeatures, conv.OutFeatures),
        ILinearWeight other => (other.InFeatures, other.OutFeatures),
        _ => throw NotLinear(module),
    };

    /// <summary>The weight as [out, in] (a view for Linear and Conv1D).</summary>
    public static Tensor WeightOutIn(nn.Module module) => module switch
    {
        Linear linear => linear.weight!,
        Conv1D conv => conv.weight.t(),
        ILinearWeight other => other.WeightOutIn(),
        _ => throw NotLinear(module),
    };

    /// <summary>Sets the weight, given as [out, in], in place (no gradient recorded).</summary>
    public static void SetWeightOutIn(nn.Module module, Tensor weightOutIn)
    {
        using var _ = no_grad();
        switch (module)
        {
            case Linear linear: linear.weight!.copy_(weightOutIn); break;
            case Conv1D conv: conv.weight.copy_(weightOutIn.t()); break;
            case ILinearWeight other: other.SetWeightOutIn(weightOutIn); break;
            default: throw NotLinear(module);
        }
    }

    public static Tensor? Bias(nn.Module module) => module switch
    {
        Linear linear => linear.bias,
        Conv1D conv => conv.bias,
        ILinearWeight other => other.Bias,
        _ => throw NotLinear(module),
    };

    /// <summary>Whether the stored weight is [in, out] (PEFT's fan_in_fan_out, true for GPT-2's Conv1D).</summary>
    public static bool IsFanInFanOut(nn.Module module) => module is Conv1D;

    static ArgumentException NotLinear(nn.Module module) =>
        new($"{module.GetType().Name} is not a linear layer (nn.Linear, Conv1D or an ILinearWeight)");
}
