using PeftSharp.Modules;
using PeftSharp.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.DistilBert;

/// <summary>The stack of blocks (HF DistilBERT Transformer): layer.N.</summary>
public sealed class DistilBertTransformer : nn.Module<Tensor, AttentionContext, Tensor>
{
    ModuleList<DistilBertBlock> layer;

    public DistilBertTransformer(DistilBertConfig config, LayerFactory layers) : base(nameof(DistilBertTransformer))
    {
        layer = new ModuleList<DistilBertBlock>(Enumerable.Range(0, config.NumLayers).Select(i => new DistilBertBlock(config, i, layers)).ToArray());
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
