using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>One post-LN encoder block (HF BertLayer): a = attention(x); out = output(intermediate(a), a).</summary>
public sealed class BertLayer : nn.Module<Tensor, AttentionContext, Tensor>
{
    BertAttention attention;
    BertIntermediate intermediate;
    BertOutput output;

    public BertLayer(BertConfig config, int layerIndex, LayerFactory layers) : base(nameof(BertLayer))
    {
        attention = new BertAttention(config, layerIndex, layers);
        intermediate = new BertIntermediate(config, layers);
        output = new BertOutput(config, layerIndex, layers);
        RegisterComponents();
    }

    /// <summary>x [B, T, H] -> [B, T, H].</summary>
    public override Tensor forward(Tensor x, AttentionContext context)
    {
        using var scope = NewDisposeScope();
        var attended = attention.call(x, context);
        return output.call(intermediate.call(attended), attended).MoveToOuterDisposeScope();
    }
}
