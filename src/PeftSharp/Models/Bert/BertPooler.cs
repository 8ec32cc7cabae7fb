using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>HF BertPooler: tanh(dense(hidden of the first token, [CLS] or &lt;s&gt;)).</summary>
public sealed class BertPooler : nn.Module<Tensor, Tensor>
{
    nn.Module<Tensor, Tensor> dense;

    public BertPooler(BertConfig config, LayerFactory layers) : base(nameof(BertPooler))
    {
        dense = layers.Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>hidden [B, T, H] -> pooled [B, H].</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return dense.call(hidden.select(1, 0)).tanh().MoveToOuterDisposeScope();
    }
}
