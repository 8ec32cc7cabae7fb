using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>
/// The feed-forward contraction of a post-LN block (HF BertOutput):
/// LayerNorm(site_ffn(dropout(dense(intermediate)), a) + a), a being the attention output the feed-forward consumed.
/// </summary>
public sealed class BertOutput : nn.Module<Tensor, Tensor, Tensor>
{
    nn.Module<Tensor, Tensor> dense, LayerNorm, dropout;
    AdapterSite feed_forward_adapters;

    public BertOutput(BertConfig config, int layerIndex, LayerFactory layers) : base(nameof(BertOutput))
    {
        dense = layers.Linear(config.IntermediateSize, config.HiddenSize);
        LayerNorm = layers.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropout);
        feed_forward_adapters = new AdapterSite(SiteKind.FeedForwardOutput, layerIndex);
        RegisterComponents();
    }

    /// <summary>intermediate [B, T, intermediate], attention output a [B, T, H] -> [B, T, H].</summary>
    public override Tensor forward(Tensor intermediate, Tensor input)
    {
        using var scope = NewDisposeScope();
        var output = feed_forward_adapters.call(dropout.call(dense.call(intermediate)), input);
        return LayerNorm.call(output + input).MoveToOuterDisposeScope();
    }
}
