using static TorchSharp.torch;

namespace PeftSharp.Tuners.Common;

/// <summary>
/// Shared bookkeeping of layers that wrap one base module (Linear, Conv1D, Embedding, LayerNorm, ...) and add
/// per-adapter behaviour: which adapters exist, which are active or merged, disabling, and mixed-batch routing.
/// A subclass supplies the forward with a given set of adapters and the merge arithmetic.
/// </summary>
public abstract class AdapterLayer : nn.Module<Tensor, Tensor>, IMergeableAdapterModule
{
    readonly List<string> _adapters = new();
    readonly List<string> _merged = new();
    List<string> _active = new();

    protected AdapterLayer(string name, nn.Module<Tensor, Tensor> baseLayer) : base(name)
    {
        base_layer = baseLayer;
        register_module("base_layer", baseLayer);
    }

    /// <summary>Children are registered explicitly under Hugging Face's names; no field reflection.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The wrapped module; its parameters stay frozen.</summary>
    public nn.Module<Tensor, Tensor> base_layer { get; }

    public nn.Module BaseModule => base_layer;
    public IReadOnlyCollection<string> AdapterNames => _adapters;
    public IReadOnlyList<string> ActiveAdapters => _active;
    public IReadOnlyList<string> MergedAdapters => _merged;
    public bool AdaptersDisabled { get; set; }

    /// <summary>Sets the active adapters; any <see cref="AdapterWeights"/> are cleared.</summary>
    public void SetActiveAdapters(IReadOnlyList<string> names)
    {
        _active = names.Where(_adapters.Contains).ToList();
        AdapterWeights = null;
    }

    /// <summary>
    /// Weights of a weighted combination (an Average composition): the layer returns sum_i w_i layer_i(x), layer_i being
    /// this layer with adapter i alone and the base taking the weight of adapters it does not hold; for LoRA that is
    /// base(x) + sum_i w_i delta_i(x), for IA3 the weighted mean of the rescaled outputs. Null: active adapters combine as
    /// the method defines (LoRA updates add, IA3 vectors multiply). Cleared whenever the active adapters change and on merging.
    /// </summary>
    public IReadOnlyDictionary<string, double>? AdapterWeights { get; set; }

    /// <summary>Records a new adapter (subclasses call this after creating its parameters); it becomes active.</summary>
    protected void Track(string name)
    {
        if (_adapters.Contains(name)) throw new ArgumentException($"adapter '{name}' already exists on this layer", nameof(name));
        _adapters.Add(name);
        _active.Add(name);
    }

    public void DeleteAdapter(string name)
    {
        if (!_adapters.Contains(name)) return;
        if (_merged.Contains(name)) throw new InvalidOperationException($"adapter '{name}' is merged; unmerge before deleting it");
        RemoveAdapterState(name);
        _adapters.Remove(name);
        _active.Remove(name);
    }

    public override Tensor forward(Tensor input)
    {
        if (AdaptersDisabled)
        {
            if (_merged.Count > 0) Unmerge();
            return base_layer.call(input);
        }
        if (AdapterRouting.Current is { } rows)
        {
            if (_merged.Count > 0)
                throw new InvalidOperationException($"adapters {string.Join(", ", _merged)} are merged into the base weights; unmerge them before mixed-batch inference");
            return ForwardRouted(input, rows);
        }
        if (AdapterWeights is { } weights) return ForwardWeighted(input, weights);
        var pending = _active.Where(a => !_merged.Contains(a)).ToList();
        return pending.Count == 0 ? base_layer.call(input) : ForwardWith(input, pending);
    }

    /// <summary>sum_i w_i layer_i(input) over the weighted adapters this layer holds, the rest of the weight on the base.</summary>
    Tensor ForwardWeighted(Tensor input, IReadOnlyDictionary<string, double> weights)
    {
        if (_merged.Count > 0)
            throw new InvalidOperationException($"adapters {string.Join(", ", _merged)} are merged into the base weights; unmerge them before a weighted combination");
        using var scope = NewDisposeScope();
        var held = weights.Where(w => _adapters.Contains(w.Key)).ToList();
        double baseWeight = 1 - held.Sum(w => w.Value);
        // With no weighted adapter here the base takes all the weight, so output is never left null.
        Tensor? output = Math.Abs(baseWeight) > 1e-12 ? base_layer.call(input) * baseWeight : null;
        foreach (var (adapter, weight) in held)
        {
            var term = ForwardWith(input, new[] { adapter }) * weight;
            output = output is null ? term : output + term;
        }
        return output!.MoveToOuterDisposeScope();
    }

    /// <summary>Output of the base module with the given (unmerged) adapters applied, for input [B, ...].</summary>
    protected abstract Tensor ForwardWith(Tensor input, IReadOnlyList<string> adapters);

    /// <summary>
    /// What one unmerged adapter adds to the base output, when it only adds (LoRA: scaling · B A x): input [n, ..., in],
    /// result [n, ..., out]. Null when the adapter's effect is not a sum (DoRA, IA3's scaling), for which routing runs
    /// <see cref="ForwardWith"/> on the adapter's rows instead.
    /// </summary>
    protected virtual Tensor? AdditiveContribution(Tensor input, string adapter) => null;

    /// <summary>
    /// Each row through its own adapter (or none). The base runs once over the whole batch; an additive adapter's
    /// contribution is computed on its rows alone and added in place, others recompute their rows and put them back.
    /// </summary>
    Tensor ForwardRouted(Tensor input, IReadOnlyList<string> rows)
    {
        using var scope = NewDisposeScope();
        var output = base_layer.call(input);                                                          // [B, ..., out], a fresh tensor
        foreach (var (adapter, indices) in AdapterRouting.Groups(rows, input.shape[0], _adapters, input.device))
        {
            var selected = input.index_select(0, indices);                                            // [n, ..., in]
            if (AdditiveContribution(selected, adapter) is { } contribution)
                output.index_add_(0, indices, contribution.to(output.dtype), 1);                       // no second base pass, no copy of the batch
            else
                output = output.index_copy(0, indices, ForwardWith(selected, new[] { adapter }).to(output.dtype));
        }
        return output.MoveToOuterDisposeScope();
    }

    public void Merge(IReadOnlyList<string> names, bool safe)
    {
        // Merged weights replace any weighted combination: the base now carries what is merged.
        AdapterWeights = null;
        foreach (string name in names)
        {
            if (!_adapters.Contains(name)) continue;
            if (_merged.Contains(name)) continue;
            using var _ = no_grad();
            MergeAdapter(name, safe);
            _merged.Add(name);
        }
    }

    public void Unmerge()
    {
        using var _ = no_grad();
        for (int i = _merged.Count - 1; i >= 0; i--) UnmergeAdapter(_merged[i]);
        _merged.Clear();
    }

    /// <summary>Folds one adapter into the base weights (no gradient is recorded).</summary>
    protected abstract void MergeAdapter(string name, bool safe);

    /// <summary>Takes one merged adapter out of the base weights again.</summary>
    protected abstract void UnmergeAdapter(string name);

    /// <summary>Disposes and unregisters one adapter's modules and parameters.</summary>
    protected abstract void RemoveAdapterState(string name);

    public abstract IEnumerable<TorchSharp.Modules.Parameter> AdapterParameters(string name);
    public abstract IEnumerable<(string Key, Tensor Value)> AdapterState(string name);
    public abstract void LoadAdapterState(string name, IReadOnlyDictionary<string, Tensor> tensors);

    /// <summary>For safe merges: fails, changing nothing, when merged weights hold NaN or infinity.</summary>
    protected static void EnsureFinite(Tensor merged, string adapter)
    {
        if (!merged.isfinite().all().item<bool>())
            throw new InvalidOperationException($"merging adapter '{adapter}' would put NaN or infinite values into the base weights; nothing was merged");
    }

    /// <summary>Copies <paramref name="value"/> into <paramref name="target"/> after checking the shape; the message names both.</summary>
    protected internal static void CopyChecked(Tensor target, Tensor value, string key)
    {
        if (!target.shape.SequenceEqual(value.shape))
            throw new ArgumentException($"'{key}': file has [{string.Join(", ", value.shape)}], this layer expects [{string.Join(", ", target.shape)}]");
        using var _ = no_grad();
        target.copy_(value.to(target.dtype));
    }

    /// <summary>Fails on keys a layer does not know and on keys it needs but did not get.</summary>
    protected internal static void CheckKeys(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyCollection<string> expected)
    {
        var unknown = tensors.Keys.Except(expected).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"unexpected tensor(s) {string.Join(", ", unknown)} (this layer stores {string.Join(", ", expected)})");
        var missing = expected.Except(tensors.Keys).ToList();
        if (missing.Count > 0) throw new ArgumentException($"missing tensor(s) {string.Join(", ", missing)}");
    }
}
