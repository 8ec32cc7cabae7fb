using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Llama;

/// <summary>Grouped-query self-attention with rotary positions (HF LlamaAttention): q_proj, k_proj, v_proj, o_proj.</summary>
public sealed class LlamaAttention : nn.Module<Tensor, AttentionContext, Tensor>
{
    nn.Module<Tensor, Tensor> q_proj, k_proj, v_proj, o_proj;
    readonly LlamaConfig _config;
    readonly int _layerIndex;

    public LlamaAttention(LlamaConfig config, int layerIndex, LayerFactory layers) : base(nameof(LlamaAttention))
    {
        _config = config;
        _layerIndex = layerIndex;
        int hidden = config.HiddenSize, headDim = config.HeadDim;
        q_proj = layers.Linear(hidden, config.NumHeads * headDim, config.AttentionBias);
        k_proj = layers.Linear(hidden, config.NumKeyValueHeads * headDim, config.AttentionBias);
        v_proj = layers.Linear(hidden, config.NumKeyValueHeads * headDim, config.AttentionBias);
        o_proj = layers.Linear(config.NumHeads * headDim, hidden, config.OutputBias);
        RegisterComponents();
    }

    /// <summary>hidden [B, T, H] -> [B, T, H].</summary>
    public override Tensor forward(Tensor hidden, AttentionContext context)
    {
        using var scope = NewDisposeScope();
        var queries = ScaledDotProductAttention.SplitHeads(q_proj.call(hidden), _config.NumHeads);       // [B, Hq, T, D]
        var keys = ScaledDotProductAttention.SplitHeads(k_proj.call(hidden), _config.NumKeyValueHeads);  // [B, Hkv, T, D]
        var values = ScaledDotProductAttention.SplitHeads(v_proj.call(hidden), _config.NumKeyValueHeads);
        var (cos, sin) = context.Rotary ?? throw new InvalidOperationException("Llama attention needs rotary tables");
        queries = RotaryEmbedding.Apply(queries, cos, sin);
        keys = RotaryEmbedding.Apply(keys, cos, sin);
        double dropout = training ? _config.AttentionDropout : 0.0;
        var attended = ScaledDotProductAttention.Compute(queries, keys, values, _layerIndex, context, dropout); // [B, T, Hq * D]
        return o_proj.call(attended).MoveToOuterDisposeScope();
    }
}
