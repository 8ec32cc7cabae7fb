using PeftSharp.Modules;
using PeftSharp.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>The stack of blocks (HF BertEncoder): layer.N.</summary>
public sealed class BertEncoder : nn.Module<Tensor, AttentionContext, Tensor>
{
    ModuleList<BertLayer> layer;

    public BertEncoder(BertConfig config, LayerFactory layers) : base(nameof(BertEncoder))
    {
        layer = new ModuleList<BertLayer>(Enumerable.Range(0, config.NumLayers).Select(i => new BertLayer(config, i, layers)).ToArray());
        RegisterComponents();
    }

    /// <summary>hidden [B, T, H] -> [B, T, H].</summary>
    public override Tensor forward(Tensor hidden, AttentionContext context)
    {
        using var scope = NewDisposeScope();
        foreach (var block in layer) hidden = ActivationCheckpoint.Call(block, hidden, context);
        return hidden.MoveToOuterDisposeScope();
    }
}
