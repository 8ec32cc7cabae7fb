using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>The feed-forward expansion (HF BertIntermediate): act(dense(x)), dense [intermediate, H].</summary>
public sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    nn.Module<Tensor, Tensor> dense;
    readonly Func<Tensor, Tensor> _activation;

    public BertIntermediate(BertConfig config, LayerFactory layers) : base(nameof(BertIntermediate))
    {
        dense = layers.Linear(config.HiddenSize, config.IntermediateSize);
        _activation = Activations.Get(config.HiddenAct);
        RegisterComponents();
    }

    /// <summary>x [B, T, H] -> [B, T, intermediate].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return _activation(dense.call(x)).MoveToOuterDisposeScope();
    }
}
