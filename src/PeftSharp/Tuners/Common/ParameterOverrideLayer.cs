using PeftSharp.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Common;

/// <summary>
/// Trains a per-adapter copy of some of a layer's own parameters, the base copy staying frozen: the whole layer for
/// PEFT's modules_to_save and for partial/full fine-tuning, only the bias for BitFit (Ben Zaken et al. 2022), weight
/// and bias of norms for LayerNorm tuning (Zhao et al. 2024). With several adapters active their differences from the
/// base add up. Works on nn.Linear, Conv1D, nn.Embedding, nn.LayerNorm and RmsNorm.
/// </summary>
public sealed class ParameterOverrideLayer : AdapterLayer
{
    readonly AdapterModules<OverrideSet> overrides = new();
    readonly Dictionary<string, Dictionary<string, Tensor>> _backups = new(StringComparer.Ordinal);
    readonly string _keyPrefix;

    /// <param name="baseLayer">The layer whose parameters are copied.</param>
    /// <param name="keyPrefix">Prefix of saved keys relative to the layer ("" for modules_to_save, "ln_tuning_layers." for PEFT's LN tuning).</param>
    public ParameterOverrideLayer(nn.Module<Tensor, Tensor> baseLayer, string keyPrefix = "") : base(nameof(ParameterOverrideLayer), baseLayer)
    {
        if (!IsSupported(baseLayer))
            throw new ArgumentException($"{baseLayer.GetType().Name} cannot carry trainable copies (supported: Linear, Conv1D, Embedding, LayerNorm, RmsNorm)", nameof(baseLayer));
        _keyPrefix = keyPrefix;
        register_module("overrides", overrides);
    }

    public static bool IsSupported(nn.Module module) => module is Linear or Conv1D or Embedding or LayerNorm or RmsNorm;

    /// <summary>Names of the base layer's parameters ("weight", "bias").</summary>
    public IReadOnlyList<string> BaseParameterNames => base_layer.named_parameters(recurse: false).Select(p => p.name).ToList();

    /// <summary>
    /// Adds an adapter training copies of <paramref name="parameterNames"/> (float32, starting equal to the base).
    /// <paramref name="shared"/> maps base parameters (by memory address) to copies already made for this adapter elsewhere, so
    /// parameters the model ties (an output head sharing the embedding matrix) keep sharing one trainable copy.
    /// </summary>
    public void AddAdapter(string name, IReadOnlyList<string> parameterNames, ScalarType dtype = ScalarType.Float32, IDictionary<long, Parameter>? shared = null)
    {
        var own = base_layer.named_parameters(recurse: false).ToDictionary(p => p.name, p => p.parameter);
        var missing = parameterNames.Where(n => !own.ContainsKey(n)).ToList();
        if (missing.Count > 0) throw new ArgumentException($"{base_layer.GetType().Name} has no parameter(s) {string.Join(", ", missing)}");
        var set = new OverrideSet();
        foreach (string parameter in parameterNames)
        {
            var original = own[parameter];
            long identity = PeftSharp.IO.NativeTensorMemory.Identity(original);
            if (shared is null || !shared.TryGetValue(identity, out var copy))
            {
                copy = new Parameter(original.detach().to(dtype).clone());
                if (shared is not null) shared[identity] = copy;
            }
            set.Add(parameter, copy);
        }
        overrides.Add(name, set);
        Track(name);
    }

    /// <summary>Names of the parameters an adapter overrides.</summary>
    public IReadOnlyList<string> Overridden(string adapter) => overrides[adapter].Names;

    protected override Tensor ForwardWith(Tensor input, IReadOnlyList<string> adapters)
    {
        using var scope = NewDisposeScope();
        var values = base_layer.named_parameters(recurse: false).ToDictionary(p => p.name, p => (Tensor)p.parameter);
        foreach (string adapter in adapters)
            foreach (var (parameter, copy) in overrides[adapter].Items)
                values[parameter] = values[parameter] + (copy - base_layer.get_parameter(parameter)!.detach().to(copy.dtype)).to(values[parameter].dtype);
        return Functional(input, values).MoveToOuterDisposeScope();
    }

    /// <summary>The base layer's computation with the given parameter values.</summary>
    Tensor Functional(Tensor input, Dictionary<string, Tensor> p)
    {
        p.TryGetValue("bias", out var bias);
        return base_layer switch
        {
            Linear => nn.functional.linear(input, p["weight"], bias),
            Conv1D => nn.functional.linear(input, p["weight"].t(), bias),
            Embedding => p["weight"].index_select(0, input.flatten()).view(input.shape.Append(p["weight"].shape[1]).ToArray()),
            LayerNorm norm => nn.functional.layer_norm(input, norm.normalized_shape, p.GetValueOrDefault("weight"), bias, norm.eps),
            RmsNorm rms => RmsNorm.Apply(input, p["weight"], rms.Eps),
            _ => throw new InvalidOperationException($"unsupported layer {base_layer.GetType().Name}"),
        };
    }

    protected override void MergeAdapter(string name, bool safe)
    {
        var changes = new Dictionary<string, Tensor>();
        foreach (var (parameter, copy) in overrides[name].Items)
        {
            var target = base_layer.get_parameter(parameter)!;
            var merged = copy.detach().to(target.dtype);
            if (safe) EnsureFinite(merged, name);
            changes[parameter] = merged;
        }
        _backups[name] = changes.ToDictionary(c => c.Key, c => base_layer.get_parameter(c.Key)!.detach().clone());
        foreach (var (parameter, merged) in changes) base_layer.get_parameter(parameter)!.copy_(merged);
    }

    protected override void UnmergeAdapter(string name)
    {
        if (!_backups.Remove(name, out var backup)) return;
        foreach (var (parameter, original) in backup) base_layer.get_parameter(parameter)!.copy_(original);
    }

    protected override void RemoveAdapterState(string name) => overrides.Remove(name);

    public override IEnumerable<Parameter> AdapterParameters(string name) => overrides[name].Items.Select(i => i.Value);

    public override IEnumerable<(string Key, Tensor Value)> AdapterState(string name) =>
        overrides[name].Items.Select(i => (_keyPrefix + i.Name, (Tensor)i.Value));

    public override void LoadAdapterState(string name, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var targets = AdapterState(name).ToDictionary(t => t.Key, t => t.Value);
        CheckKeys(tensors, targets.Keys);
        foreach (var (key, value) in tensors) CopyChecked(targets[key], value, key);
    }

    /// <summary>One adapter's parameter copies, registered by the base parameter's name.</summary>
    sealed class OverrideSet : nn.Module
    {
        readonly List<(string Name, Parameter Value)> _items = new();
        public OverrideSet() : base(nameof(OverrideSet)) { }
        protected override void RegisterComponents() { }
        public IReadOnlyList<(string Name, Parameter Value)> Items => _items;
        public IReadOnlyList<string> Names => _items.Select(i => i.Name).ToList();

        public void Add(string name, Parameter value)
        {
            register_parameter(name, value);
            _items.Add((name, value));
        }
    }
}
