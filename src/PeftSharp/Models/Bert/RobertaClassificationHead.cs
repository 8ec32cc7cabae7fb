using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>HF RobertaClassificationHead: out_proj(dropout(tanh(dense(dropout(hidden of &lt;s&gt;))))).</summary>
public sealed class RobertaClassificationHead : nn.Module<Tensor, Tensor>
{
    nn.Module<Tensor, Tensor> dense, dropout, out_proj;

    public RobertaClassificationHead(BertConfig config, LayerFactory layers) : base(nameof(RobertaClassificationHead))
    {
        dense = layers.Linear(config.HiddenSize, config.HiddenSize);
        dropout = nn.Dropout(config.ClassifierDropout);
        out_proj = layers.Linear(config.HiddenSize, config.NumLabels);
        RegisterComponents();
    }

    /// <summary>hidden [B, T, H] -> logits [B, labels].</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var x = dropout.call(hidden.select(1, 0));
        x = dropout.call(dense.call(x).tanh());
        return out_proj.call(x).MoveToOuterDisposeScope();
    }
}
