using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// AdapterFusion at one site (Pfeiffer et al. 2021, AdapterHub's BertFusion): with h [B, T, H] the site's output and
/// d_i [B, T, H] the fused adapters' contributions, scores_i = query(h) . key(d_i), p = softmax_i(dropout(scores)),
/// out = h + sum_i p_i value(d_i). query and key are H x H linear layers (normal std 0.02, bias zero); value is H x H
/// without bias, starting at the identity (off-diagonal 1e-6) so fusion starts as the attention-weighted mean of the
/// adapters. Options follow AdapterHub's AdapterFusionConfig (query/key/value on or off, value before or after the
/// softmax, residual added to the values first).
/// </summary>
public sealed class AdapterFusionLayer : nn.Module<Tensor, Tensor, Tensor>
{
    readonly Linear? query, key, value;
    readonly FusionConfig _config;

    public AdapterFusionLayer(long hidden, FusionConfig config) : base(nameof(AdapterFusionLayer))
    {
        _config = config;
        if (config.Query) query = Register("query", BertInit(nn.Linear(hidden, hidden)));
        if (config.Key) key = Register("key", BertInit(nn.Linear(hidden, hidden)));
        if (config.Value)
        {
            value = Register("value", BertInit(nn.Linear(hidden, hidden, hasBias: false)));
            if (config.ValueInitialized)
                using (no_grad()) value.weight!.copy_(full(hidden, hidden, 1e-6) + eye(hidden) * (1 - 1e-6));
        }
    }

    /// <summary>Children are registered explicitly under AdapterHub's names; no field reflection.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The value projection, when the fusion has one (its distance from the identity is regularised).</summary>
    public Linear? Value => value;

    Linear Register(string name, Linear layer)
    {
        register_module(name, layer);
        return layer;
    }

    static Linear BertInit(Linear layer)
    {
        using var _ = no_grad();
        layer.weight!.normal_(0, 0.02);
        layer.bias?.zero_();
        return layer;
    }

    /// <summary>h [B, T, H] and contributions d [B, T, N, H] -> [B, T, H] in h's dtype.</summary>
    public override Tensor forward(Tensor h, Tensor contributions)
    {
        using var scope = NewDisposeScope();
        var residual = h.to(ScalarType.Float32);
        var d = contributions.to(ScalarType.Float32);
        if (_config.ResidualBefore) d = d + residual.unsqueeze(2);
        var q = query?.call(residual) ?? residual;                                         // [B, T, H]
        var k = key?.call(d) ?? d;                                                          // [B, T, N, H]
        var v = value is not null && _config.ValueBeforeSoftmax ? value.call(d) : d;        // [B, T, N, H]
        var scores = q.unsqueeze(2).matmul(k.transpose(-2, -1)).squeeze(2);                 // [B, T, N]
        if (training && _config.DropoutProb > 0) scores = nn.functional.dropout(scores, _config.DropoutProb, training: true);
        var probabilities = scores.softmax(-1);
        var context = probabilities.unsqueeze(2).matmul(v).squeeze(2);                      // [B, T, H]
        if (value is not null && !_config.ValueBeforeSoftmax) context = value.call(context);
        if (!_config.ResidualBefore) context = context + residual;
        return context.to(h.dtype).MoveToOuterDisposeScope();
    }
}
