using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Gpt2;

/// <summary>
/// One pre-LN GPT-2 block (HF GPT2Block):
/// h = x + site_attn(attn(ln_1(x))); out = h + site_ffn(mlp(ln_2(h))).
/// </summary>
public sealed class Gpt2Block : nn.Module<Tensor, AttentionContext, Tensor>
{
    nn.Module<Tensor, Tensor> ln_1, ln_2;
    Gpt2Attention attn;
    Gpt2Mlp mlp;
    AdapterSite attention_adapters, feed_forward_adapters;

    public Gpt2Block(Gpt2Config config, int layerIndex, LayerFactory layers) : base(nameof(Gpt2Block))
    {
        ln_1 = layers.LayerNorm(config.HiddenSize, config.LayerNormEps);
        attn = new Gpt2Attention(config, layerIndex, layers);
        ln_2 = layers.LayerNorm(config.HiddenSize, config.LayerNormEps);
        mlp = new Gpt2Mlp(config, layers);
        attention_adapters = new AdapterSite(SiteKind.AttentionOutput, layerIndex);
        feed_forward_adapters = new AdapterSite(SiteKind.FeedForwardOutput, layerIndex);
        RegisterComponents();
    }

    /// <summary>
    /// A Conv1D writing into the residual stream (attn.c_proj, mlp.c_proj). GPT-2 starts these with std
    /// initializer_range / sqrt(2 * n_layer) so the residual sum keeps its scale at depth.
    /// </summary>
    internal static Conv1D ResidualProjection(Gpt2Config config, long inFeatures, LayerFactory layers)
    {
        var projection = layers.Conv1D(inFeatures, config.HiddenSize);
        if (layers.Initialize)
            using (no_grad()) projection.weight.mul_(1.0 / Math.Sqrt(2.0 * config.NumLayers));
        return projection;
    }

    /// <summary>x [B, T, H] -> [B, T, H].</summary>
    public override Tensor forward(Tensor x, AttentionContext context)
    {
        using var scope = NewDisposeScope();
        var normed = ln_1.call(x);
        var h = x + attention_adapters.call(attn.call(normed, context), normed);
        normed = ln_2.call(h);
        return (h + feed_forward_adapters.call(mlp.call(normed), normed)).MoveToOuterDisposeScope();
    }
}
