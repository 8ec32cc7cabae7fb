using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Llama;

/// <summary>
/// One pre-norm decoder block (HF LlamaDecoderLayer):
/// h = x + site_attn(self_attn(input_layernorm(x))); out = h + site_ffn(mlp(post_attention_layernorm(h))).
/// </summary>
public sealed class LlamaDecoderLayer : nn.Module<Tensor, AttentionContext, Tensor>
{
    LlamaAttention self_attn;
    LlamaMlp mlp;
    nn.Module<Tensor, Tensor> input_layernorm, post_attention_layernorm;
    AdapterSite attention_adapters, feed_forward_adapters;

    public LlamaDecoderLayer(LlamaConfig config, int layerIndex, LayerFactory layers) : base(nameof(LlamaDecoderLayer))
    {
        self_attn = new LlamaAttention(config, layerIndex, layers);
        mlp = new LlamaMlp(config, layers);
        input_layernorm = layers.RmsNorm(config.HiddenSize, config.RmsNormEps);
        post_attention_layernorm = layers.RmsNorm(config.HiddenSize, config.RmsNormEps);
        attention_adapters = new AdapterSite(SiteKind.AttentionOutput, layerIndex);
        feed_forward_adapters = new AdapterSite(SiteKind.FeedForwardOutput, layerIndex);
        RegisterComponents();
    }

    /// <summary>x [B, T, H] -> [B, T, H].</summary>
    public override Tensor forward(Tensor x, AttentionContext context)
    {
        using var scope = NewDisposeScope();
        var normed = input_layernorm.call(x);
        var h = x + attention_adapters.call(self_attn.call(normed, context), normed);
        normed = post_attention_layernorm.call(h);
        return (h + feed_forward_adapters.call(mlp.call(normed), normed)).MoveToOuterDisposeScope();
    }
}
