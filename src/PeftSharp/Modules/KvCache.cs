using static TorchSharp.torch;

namespace PeftSharp.Modules;

/// <summary>
/// Keys and values of earlier positions, one pair per attention layer, each [B, kv_heads, S, head_dim].
/// Used for incremental decoding and, pre-filled with learned vectors, for prefix tuning: a layer's
/// attention reads the stored pairs followed by its current ones, exactly as Hugging Face's past_key_values.
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly (Tensor Keys, Tensor Values)?[] _layers;
    Tensor? _prefixMask;

    public KvCache(int layerCount)
    {
        if (layerCount <= 0) throw new ArgumentOutOfRangeException(nameof(layerCount), "a cache needs at least one layer");
        _layers = new (Tensor, Tensor)?[layerCount];
    }

    public int LayerCount => _layers.Length;

    /// <summary>Positions stored so far (that of layer 0; every layer holds the same count after a full forward).</summary>
    public long Length => _layers[0]?.Keys.shape[2] ?? 0;

    /// <summary>
    /// Padding mask [B, K] of the first K stored positions when the model itself put them there (prefix-tuning
    /// prefixes, prompt-tuning virtual tokens) and some rows have fewer of them (a mixed batch); null when all are real.
    /// Callers extend the mask with ones for such positions; the model corrects those columns from this.
    /// </summary>
    public Tensor? PrefixMask
    {
        get => _prefixMask;
        set
        {
            _prefixMask?.Dispose();
            _prefixMask = value?.alias().DetachFromDisposeScope();
        }
    }

    /// <summary>Whether layer <paramref name="layer"/> holds anything.</summary>
    public bool Has(int layer) => _layers[layer] != null;

    /// <summary>Stored pair of a layer, or null.</summary>
    public (Tensor Keys, Tensor Values)? Get(int layer) => _layers[layer];

    /// <summary>Replaces a layer's content, e.g. with learned prefixes [B, kv_heads, P, head_dim].</summary>
    public void Set(int layer, Tensor keys, Tensor values)
    {
        if (keys.dim() != 4 || values.dim() != 4)
            throw new ArgumentException("cache keys and values must be [batch, kv_heads, positions, head_dim]");
        Release(layer);
        _layers[layer] = (keys.alias().DetachFromDisposeScope(), values.alias().DetachFromDisposeScope());
    }

    /// <summary>
    /// Appends this step's keys and values [B, kv_heads, T, head_dim] and returns everything stored for the
    /// layer, [B, kv_heads, S + T, head_dim].
    /// </summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        var stored = _layers[layer];
        (Tensor Keys, Tensor Values) all = stored is { } s
            ? (cat(new[] { s.Keys, keys }, 2), cat(new[] { s.Values, values }, 2))
            : (keys.alias(), values.alias());
        Set(layer, all.Keys, all.Values);
        return (all.Keys.alias(), all.Values.alias());
    }

    /// <summary>Keeps only the given batch rows (e.g. when finished sequences leave a batch).</summary>
    public void SelectRows(Tensor rowIndices)
    {
        for (int layer = 0; layer < _layers.Length; layer++)
            if (_layers[layer] is { } pair)
                Set(layer, pair.Keys.index_select(0, rowIndices), pair.Values.index_select(0, rowIndices));
        if (_prefixMask is { } mask) PrefixMask = mask.index_select(0, rowIndices);
    }

    void Release(int layer)
    {
        if (_layers[layer] is { } pair)
        {
            pair.Keys.Dispose();
            pair.Values.Dispose();
        }
        _layers[layer] = null;
    }

    public void Dispose()
    {
        for (int layer = 0; layer < _layers.Length; layer++) Release(layer);
        PrefixMask = null;
    }
}
