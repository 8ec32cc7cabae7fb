using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>
/// The attention output projection of a post-LN block (HF BertSelfOutput):
/// LayerNorm(site_attn(dropout(dense(attended)), x) + x), x being the block's input.
/// </summary>
public sealed class BertSelfOutput : nn.Module<Tensor, Tensor, Tensor>
{
    nn.Module<Tensor, Tensor> dense, LayerNorm, dropout;
    AdapterSite attention_adapters;

    public BertSelfOutput(BertConfig config, int layerIndex, LayerFactory layers) : base(nameof(BertSelfOutput))
    {
        dense = layers.Linear(config.HiddenSize, config.HiddenSize);
        LayerNorm = layers.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropout);
        attention_adapters = new AdapterSite(SiteKind.AttentionOutput, layerIndex);
        RegisterComponents();
    }

    /// <summary>attended [B, T, H], the block input x [B, T, H] -> [B, T, H].</summary>
    public override Tensor forward(Tensor attended, Tensor input)
    {
        using var scope = NewDisposeScope();
        var output = attention_adapters.call(dropout.call(dense.call(attended)), input);
        return LayerNorm.call(output + input).MoveToOuterDisposeScope();
    }
}
