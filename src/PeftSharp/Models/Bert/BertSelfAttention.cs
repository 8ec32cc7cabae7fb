using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>
/// Bidirectional multi-head attention (HF BertSelfAttention): query, key, value. Cached or prefix keys/values in the
/// context come first, as Hugging Face concatenates past_key_value.
/// </summary>
public sealed class BertSelfAttention : nn.Module<Tensor, AttentionContext, Tensor>
{
    nn.Module<Tensor, Tensor> query, key, value;
    readonly BertConfig _config;
    readonly int _layerIndex;

    public BertSelfAttention(BertConfig config, int layerIndex, LayerFactory layers) : base(nameof(BertSelfAttention))
    {
        _config = config;
        _layerIndex = layerIndex;
        query = layers.Linear(config.HiddenSize, config.HiddenSize);
        key = layers.Linear(config.HiddenSize, config.HiddenSize);
        value = layers.Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>hidden [B, T, H] -> attended values [B, T, H] (before the output projection).</summary>
    public override Tensor forward(Tensor hidden, AttentionContext context)
    {
        using var scope = NewDisposeScope();
        var queries = ScaledDotProductAttention.SplitHeads(query.call(hidden), _config.NumHeads);   // [B, heads, T, D]
        var keys = ScaledDotProductAttention.SplitHeads(key.call(hidden), _config.NumHeads);
        var values = ScaledDotProductAttention.SplitHeads(value.call(hidden), _config.NumHeads);
        double dropout = training ? _config.AttentionDropout : 0.0;
        return ScaledDotProductAttention.Compute(queries, keys, values, _layerIndex, context, dropout).MoveToOuterDisposeScope();
    }
}
