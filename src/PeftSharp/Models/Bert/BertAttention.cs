using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>HF BertAttention: self (the attention proper) and output (projection, residual, LayerNorm).</summary>
public sealed class BertAttention : nn.Module<Tensor, AttentionContext, Tensor>
{
    BertSelfAttention self;
    BertSelfOutput output;

    public BertAttention(BertConfig config, int layerIndex, LayerFactory layers) : base(nameof(BertAttention))
    {
        self = new BertSelfAttention(config, layerIndex, layers);
        output = new BertSelfOutput(config, layerIndex, layers);
        RegisterComponents();
    }

    /// <summary>x [B, T, H] -> [B, T, H].</summary>
    public override Tensor forward(Tensor x, AttentionContext context)
    {
        using var scope = NewDisposeScope();
        return output.call(self.call(x, context), x).MoveToOuterDisposeScope();
    }
}
