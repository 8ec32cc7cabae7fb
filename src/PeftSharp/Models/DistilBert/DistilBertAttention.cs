using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.DistilBert;

/// <summary>Bidirectional multi-head attention (HF DistilBERT MultiHeadSelfAttention): q_lin, k_lin, v_lin, out_lin.</summary>
public sealed class DistilBertAttention : nn.Module<Tensor, AttentionContext, Tensor>
{
    nn.Module<Tensor, Tensor> q_lin, k_lin, v_lin, out_lin;
    readonly DistilBertConfig _config;
    readonly int _layerIndex;

    public DistilBertAttention(DistilBertConfig config, int layerIndex, LayerFactory layers) : base(nameof(DistilBertAttention))
    {
        _config = config;
        _layerIndex = layerIndex;
        q_lin = layers.Linear(config.HiddenSize, config.HiddenSize);
        k_lin = layers.Linear(config.HiddenSize, config.HiddenSize);
        v_lin = layers.Linear(config.HiddenSize, config.HiddenSize);
        out_lin = layers.Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>hidden [B, T, H] -> [B, T, H].</summary>
    public override Tensor forward(Tensor hidden, AttentionContext context)
    {
        using var scope = NewDisposeScope();
        var queries = ScaledDotProductAttention.SplitHeads(q_lin.call(hidden), _config.NumHeads);   // [B, heads, T, D]
        var keys = ScaledDotProductAttention.SplitHeads(k_lin.call(hidden), _config.NumHeads);
        var values = ScaledDotProductAttention.SplitHeads(v_lin.call(hidden), _config.NumHeads);
        double dropout = training ? _config.AttentionDropout : 0.0;
        var attended = ScaledDotProductAttention.Compute(queries, keys, values, _layerIndex, context, dropout); // [B, T, H]
        return out_lin.call(attended).MoveToOuterDisposeScope();
    }
}
