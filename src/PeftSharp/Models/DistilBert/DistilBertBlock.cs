using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.DistilBert;

/// <summary>
/// One post-LN block (HF DistilBERT TransformerBlock):
/// a = sa_layer_norm(site_attn(attention(x), x) + x); out = output_layer_norm(site_ffn(ffn(a), a) + a).
/// </summary>
public sealed class DistilBertBlock : nn.Module<Tensor, AttentionContext, Tensor>
{
    DistilBertAttention attention;
    nn.Module<Tensor, Tensor> sa_layer_norm, output_layer_norm;
    DistilBertFeedForward ffn;
    AdapterSite attention_adapters, feed_forward_adapters;

    public DistilBertBlock(DistilBertConfig config, int layerIndex, LayerFactory layers) : base(nameof(DistilBertBlock))
    {
        attention = new DistilBertAttention(config, layerIndex, layers);
        sa_layer_norm = layers.LayerNorm(config.HiddenSize, DistilBertConfig.LayerNormEps);
        ffn = new DistilBertFeedForward(config, layers);
        output_layer_norm = layers.LayerNorm(config.HiddenSize, DistilBertConfig.LayerNormEps);
        attention_adapters = new AdapterSite(SiteKind.AttentionOutput, layerIndex);
        feed_forward_adapters = new AdapterSite(SiteKind.FeedForwardOutput, layerIndex);
        RegisterComponents();
    }

    /// <summary>x [B, T, H] -> [B, T, H].</summary>
    public override Tensor forward(Tensor x, AttentionContext context)
    {
        using var scope = NewDisposeScope();
        var attended = sa_layer_norm.call(attention_adapters.call(attention.call(x, context), x) + x);
        var output = feed_forward_adapters.call(ffn.call(attended), attended);
        return output_layer_norm.call(output + attended).MoveToOuterDisposeScope();
    }
}
