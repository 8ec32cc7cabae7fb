using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>HF BertPredictionHeadTransform: LayerNorm(act(dense(x))), act being hidden_act.</summary>
public sealed class BertPredictionHeadTransform : nn.Module<Tensor, Tensor>
{
    nn.Module<Tensor, Tensor> dense, LayerNorm;
    readonly Func<Tensor, Tensor> _activation;

    public BertPredictionHeadTransform(BertConfig config, LayerFactory layers) : base(nameof(BertPredictionHeadTransform))
    {
        dense = layers.Linear(config.HiddenSize, config.HiddenSize);
        LayerNorm = layers.LayerNorm(config.HiddenSize, config.LayerNormEps);
        _activation = Activations.Get(config.HiddenAct);
        RegisterComponents();
    }

    /// <summary>x [B, T, H] -> [B, T, H].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return LayerNorm.call(_activation(dense.call(x))).MoveToOuterDisposeScope();
    }
}
