using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Gpt2;

/// <summary>
/// GPT-2 causal self-attention (HF GPT2Attention): c_attn (fused q, k, v; a Conv1D [H, 3H]), c_proj (Conv1D [H, H]),
/// resid_dropout after the projection. Attention dropout uses "attn_pdrop".
/// </summary>
public sealed class Gpt2Attention : nn.Module<Tensor, AttentionContext, Tensor>
{
    nn.Module<Tensor, Tensor> c_attn, c_proj, resid_dropout;
    readonly Gpt2Config _config;
    readonly int _layerIndex;
    readonly double _queryScale;

    public Gpt2Attention(Gpt2Config config, int layerIndex, LayerFactory layers) : base(nameof(Gpt2Attention))
    {
        _config = config;
        _layerIndex = layerIndex;
        c_attn = layers.Conv1D(config.HiddenSize, 3 * config.HiddenSize);
        c_proj = Gpt2Block.ResidualProjection(config, config.HiddenSize, layers);
        resid_dropout = nn.Dropout(config.ResidualDropout);
        // The shared attention divides scores by sqrt(head_dim); GPT-2's other scalings are folded into the queries.
        double scale = config.ScaleAttentionWeights ? 1.0 : Math.Sqrt(config.HeadDim);
        if (config.ScaleAttentionByInverseLayerIndex) scale /= layerIndex + 1;
        _queryScale = scale;
        RegisterComponents();
    }

    /// <summary>hidden [B, T, H] -> [B, T, H].</summary>
    public override Tensor forward(Tensor hidden, AttentionContext context)
    {
        using var scope = NewDisposeScope();
        long width = _config.HiddenSize;
        var fused = c_attn.call(hidden);                                                            // [B, T, 3H]
        var queries = ScaledDotProductAttention.SplitHeads(fused.narrow(-1, 0, width), _config.NumHeads);      // [B, heads, T, D]
        var keys = ScaledDotProductAttention.SplitHeads(fused.narrow(-1, width, width), _config.NumHeads);
        var values = ScaledDotProductAttention.SplitHeads(fused.narrow(-1, 2 * width, width), _config.NumHeads);
        if (_queryScale != 1.0) queries = queries * _queryScale;
        double dropout = training ? _config.AttentionDropout : 0.0;
        var attended = ScaledDotProductAttention.Compute(queries, keys, values, _layerIndex, context, dropout); // [B, T, H]
        return resid_dropout.call(c_proj.call(attended)).MoveToOuterDisposeScope();
    }
}
