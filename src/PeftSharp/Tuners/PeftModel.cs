using PeftSharp.Models;
using PeftSharp.Tuners.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners;

/// <summary>Counts of a model's parameters: those that train, and all of them (shared ones once).</summary>
public sealed record TrainableReport(long Trainable, long Total)
{
    public double Percent => Total == 0 ? 0 : 100.0 * Trainable / Total;
    public override string ToString() => $"trainable params: {Trainable:N0} || all params: {Total:N0} || trainable%: {Percent:0.####}";
}

/// <summary>
/// A model carrying fine-tuning adapters, as Hugging Face PEFT's PeftModel: the backbone is frozen, adapters are keyed
/// by name, several can live on one base and be switched, combined per batch row, merged and saved in PEFT's file layout.
/// Module tree: base_model.model.&lt;model paths&gt;, so parameter names read as PEFT's.
/// </summary>
public sealed class PeftModel : nn.Module<ModelInputs, ModelOutputs>
{
    readonly PeftBaseModel base_model;
    readonly Dictionary<string, PeftConfig> _configs = new(StringComparer.Ordinal);
    readonly List<IForwardAdapter> _forwardAdapters = new();
    List<string> _active = new();

    PeftModel(TransformerModel model) : base(nameof(PeftModel))
    {
        base_model = new PeftBaseModel(model);
        register_module("base_model", base_model);
        foreach (var parameter in model.parameters()) parameter.requires_grad = false;
        train(model.training);
    }

    /// <summary>Children are registered explicitly under Hugging Face's names; no field reflection.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The wrapped transformer (its adapted layers replaced by adapter layers).</summary>
    public TransformerModel Model => base_model.model;

    /// <summary>Adapters by name, with their configs as applied.</summary>
    public IReadOnlyDictionary<string, PeftConfig> Adapters => _configs;

    /// <summary>Adapters currently applied in forward passes.</summary>
    public IReadOnlyList<string> ActiveAdapters => _active;

    /// <summary>Freezes <paramref name="model"/> and attaches a first adapter, active and trainable.</summary>
    public static PeftModel Create(TransformerModel model, PeftConfig config, string adapterName = "default")
    {
        var peft = new PeftModel(model);
        peft.AddAdapter(adapterName, config);
        peft.SetAdapter(adapterName);
        return peft;
    }

    /// <summary>
    /// Loads an adapter directory (adapter_config.json + adapter_model.safetensors, as Python PEFT writes them) onto
    /// <paramref name="model"/>, active, and trainable only if asked.
    /// </summary>
    public static PeftModel Load(TransformerModel model, string directory, string adapterName = "default", bool trainable = false)
    {
        var peft = new PeftModel(model);
        peft.LoadAdapter(directory, adapterName, trainable);
        peft.SetAdapter(adapterName);
        if (!trainable) foreach (var parameter in peft.parameters()) parameter.requires_grad = false;
        return peft;
    }

    /// <summary>Loads another adapter directory under <paramref name="adapterName"/> (inactive unless it is the first).</summary>
    public PeftConfig LoadAdapter(string directory, string adapterName, bool trainable = false)
    {
        var config = AdapterFiles.Load(this, directory, adapterName);
        if (!trainable) foreach (var parameter in AdapterParameters(adapterName)) parameter.requires_grad = false;
        return config;
    }

    /// <summary>Saves one adapter (default: the first active) in Hugging Face PEFT's layout.</summary>
    public void SaveAdapter(string directory, string? adapterName = null) =>
        AdapterFiles.Save(this, directory, adapterName ?? _active.FirstOrDefault() ?? throw new InvalidOperationException("no adapter to save"));

    /// <summary>Attaches another adapter (inactive until <see cref="SetAdapter"/> unless it is the first).</summary>
    /// <exception cref="ArgumentException">The name is taken, reserved or malformed.</exception>
    public void AddAdapter(string name, PeftConfig config)
    {
        ValidateName(name);
        config.Validate();
        var method = PeftMethods.For(config.PeftType);
        PeftConfig applied;
        try
        {
            applied = method.Attach(this, name, config);
            applied = ModulesToSave.Attach(this, name, applied);
        }
        catch
        {
            // A method that failed part-way (a later module did not fit) leaves no half-attached adapter behind.
            foreach (var (_, module) in AdapterModules().ToList()) module.DeleteAdapter(name);
            throw;
        }
        _configs[name] = applied;
        if (_active.Count == 0) SetAdapter(name);
        else foreach (var (_, module) in AdapterModules()) module.SetActiveAdapters(_active);
        foreach (var parameter in AdapterParameters(name)) parameter.requires_grad = false;
        if (_active.Count == 1 && _active[0] == name) MarkTrainable(name);
    }

    /// <summary>
    /// Adds LoRA adapter <paramref name="newName"/> (inactive) combining <paramref name="adapters"/> with <paramref name="weights"/>,
    /// as PEFT's add_weighted_adapter: <paramref name="combination"/> is "svd", "linear", "cat", "ties", "dare_linear",
    /// "dare_ties", "magnitude_prune" or one of those with "_svd". See <see cref="Lora.LoraCombination"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The adapters, weights or options cannot be combined (the message says why).</exception>
    public Lora.LoraConfig AddWeightedAdapter(IReadOnlyList<string> adapters, IReadOnlyList<double> weights, string newName, string combination = "svd",
        int? svdRank = null, double? svdClamp = null, double? density = null, string majoritySignMethod = "total", long? seed = null) =>
        Lora.LoraCombination.Add(this, adapters, weights, newName, new Lora.LoraCombinationOptions
        {
            Combination = combination, SvdRank = svdRank, SvdClamp = svdClamp, Density = density, MajoritySignMethod = majoritySignMethod, Seed = seed,
        });

    /// <summary>Makes the named adapters active (their contributions add up) and the first of them trainable.</summary>
    public void SetAdapter(params string[] names)
    {
        if (names.Length == 0) throw new ArgumentException("name at least one adapter", nameof(names));
        foreach (string name in names) Require(name);
        _active = names.ToList();
        foreach (var (_, module) in AdapterModules()) module.SetActiveAdapters(_active);
        MarkTrainable(names[0]);
    }

    /// <summary>Only <paramref name="name"/>'s parameters require gradients; the base and other adapters are frozen.</summary>
    public void MarkTrainable(string name)
    {
        Require(name);
        foreach (var parameter in parameters()) parameter.requires_grad = false;
        foreach (var parameter in AdapterParameters(name)) parameter.requires_grad = true;
    }

    /// <summary>Removes an adapter and its parameters.</summary>
    public void DeleteAdapter(string name)
    {
        Require(name);
        foreach (var (_, module) in AdapterModules().ToList()) module.DeleteAdapter(name);
        _configs.Remove(name);
        _active.Remove(name);
        foreach (var (_, module) in AdapterModules()) module.SetActiveAdapters(_active);
    }

    /// <summary>Runs the base model alone until the returned scope is disposed (merged adapters are unmerged first).</summary>
    public IDisposable DisableAdapters()
    {
        var modules = AdapterModules().Select(m => m.Module).ToList();
        foreach (var module in modules) module.AdaptersDisabled = true;
        return new Restore(() => { foreach (var module in modules) module.AdaptersDisabled = false; });
    }

    /// <summary>Each batch row uses the adapter it names ("__base__" for none) until the scope is disposed.</summary>
    public IDisposable RouteRows(IReadOnlyList<string> rowAdapters)
    {
        foreach (string name in rowAdapters.Distinct())
            if (name != AdapterRouting.BaseModel) Require(name);
        return AdapterRouting.PerRow(rowAdapters);
    }

    /// <summary>Folds adapters (default: the active ones) into the base weights. <paramref name="safe"/> refuses NaN/Inf.</summary>
    public void Merge(IReadOnlyList<string>? names = null, bool safe = false)
    {
        names ??= _active;
        foreach (string name in names) Require(name);
        var unmergeable = AdapterModules().Where(m => m.Module is not IMergeableAdapterModule && names.Any(m.Module.AdapterNames.Contains)).ToList();
        if (unmergeable.Count > 0)
            throw new InvalidOperationException(unmergeable[0].Module is IForwardAdapter forward
                ? $"{forward.GetType().Name} rewrites the model's inputs (virtual tokens, key/value prefixes) and cannot be merged into base weights"
                : $"{unmergeable[0].Module.GetType().Name} at '{unmergeable[0].Path}' cannot be merged into base weights");
        foreach (var (path, module) in AdapterModules())
            if (module is Lora.LoraEmbedding && names.Any(module.AdapterNames.Contains) && IsTiedSource(path))
                throw new InvalidOperationException($"'{path}' shares its weight with the output head; merging LoRA into it would change the head too");
        foreach (var (_, module) in AdapterModules())
            if (module is IMergeableAdapterModule mergeable) mergeable.Merge(names, safe);
    }

    /// <summary>Whether the module at <paramref name="path"/> owns a weight the model ties to another parameter.</summary>
    bool IsTiedSource(string path) => Model.TiedParameters.Values.Any(source => source == path + ".weight");

    /// <summary>Takes every merged adapter out of the base weights.</summary>
    public void Unmerge()
    {
        foreach (var (_, module) in AdapterModules())
            if (module is IMergeableAdapterModule mergeable) mergeable.Unmerge();
    }

    /// <summary>Merges the active adapters and returns the plain transformer, every adapter layer replaced by its base.</summary>
    public TransformerModel MergeAndUnload(bool safe = false)
    {
        Merge(_active, safe);
        return Unload();
    }

    /// <summary>Returns the plain transformer without adapters (merged adapters stay in the weights).</summary>
    public TransformerModel Unload()
    {
        foreach (var (path, module) in AdapterModules().ToList())
        {
            if (module is IMergeableAdapterModule mergeable)
                ModuleTree.Replace(Model, path, mergeable.BaseModule);
            else if (module is IDetachableAdapter detachable)
                detachable.DetachFrom(Model, path);
        }
        foreach (var forward in _forwardAdapters)
            if (forward.AdapterNames.Count > 0)
                throw new InvalidOperationException($"{forward.GetType().Name} rewrites inputs and cannot be unloaded into the base model; delete its adapters first");
        var model = Model;
        register_module("base_model", null!);
        _configs.Clear();
        _active.Clear();
        return model;
    }

    /// <summary>Parameter counts, shared parameters counted once (as transformers' num_parameters).</summary>
    public TrainableReport TrainableParameters()
    {
        var unique = parameters().DistinctBy(p => PeftSharp.IO.NativeTensorMemory.Identity(p)).ToList();
        return new TrainableReport(unique.Where(p => p.requires_grad).Sum(p => p.numel()), unique.Sum(p => p.numel()));
    }

    /// <summary>Every adapter module with its path inside the transformer ("" for model-level ones).</summary>
    public IEnumerable<(string Path, IAdapterModule Module)> AdapterModules()
    {
        foreach (var forward in _forwardAdapters) yield return ("", forward);
        foreach (var (path, module) in Model.named_modules())
            if (module is IAdapterModule adapter) yield return (path, adapter);
    }

    /// <summary>Model-level adapters (prompt and prefix tuning, parallel composition), in the order they prepare inputs.</summary>
    public IReadOnlyList<IForwardAdapter> ForwardAdapters => _forwardAdapters;

    /// <summary>
    /// Registers a model-level adapter module under <paramref name="name"/> (e.g. "prompt_encoder"), or returns the one
    /// already registered there, so several adapters of one method share it.
    /// </summary>
    public T ForwardAdapter<T>(string name, Func<T> create) where T : nn.Module, IForwardAdapter
    {
        var existing = named_children().FirstOrDefault(c => c.name == name).module;
        if (existing is T found) return found;
        if (existing is not null) throw new InvalidOperationException($"'{name}' is already taken by {existing.GetType().Name}");
        var module = create();
        register_module(name, module);
        _forwardAdapters.Add(module);
        module.SetActiveAdapters(_active);
        return module;
    }

    /// <summary>Parameters of one adapter (deduplicated).</summary>
    public IEnumerable<Parameter> AdapterParameters(string name) =>
        AdapterModules().Where(m => m.Module.AdapterNames.Contains(name)).SelectMany(m => m.Module.AdapterParameters(name))
            .DistinctBy(p => PeftSharp.IO.NativeTensorMemory.Identity(p));

    /// <summary>Runs the transformer, with model-level adapters rewriting inputs before and outputs after.</summary>
    public override ModelOutputs forward(ModelInputs inputs)
    {
        if (_forwardAdapters.Count == 0) return Model.call(inputs);
        var stages = new List<(IForwardAdapter Adapter, ModelInputs Before, ModelInputs After)>();
        var current = inputs;
        foreach (var adapter in _forwardAdapters)
        {
            if (adapter.AdaptersDisabled) continue;
            var prepared = adapter.Prepare(current, this);
            stages.Add((adapter, current, prepared));
            current = prepared;
        }
        ModelOutputs outputs;
        try
        {
            outputs = Model.call(current);
        }
        catch
        {
            foreach (var stage in stages) stage.Adapter.Abandon();
            throw;
        }
        for (int i = stages.Count - 1; i >= 0; i--) outputs = stages[i].Adapter.Finish(outputs, stages[i].Before, stages[i].After);
        return outputs;
    }

    void Require(string name)
    {
        if (!_configs.ContainsKey(name))
            throw new ArgumentException($"no adapter named '{name}' (adapters: {string.Join(", ", _configs.Keys)})", nameof(name));
    }

    void ValidateName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Contains('.') || name == AdapterRouting.BaseModel)
            throw new ArgumentException($"'{name}' cannot name an adapter (no dots, not empty, not {AdapterRouting.BaseModel})", nameof(name));
        if (_configs.ContainsKey(name)) throw new ArgumentException($"an adapter named '{name}' already exists", nameof(name));
    }

    /// <summary>The "base_model" level of PEFT's tree, holding the transformer as "model".</summary>
    sealed class PeftBaseModel : nn.Module
    {
        public PeftBaseModel(TransformerModel model) : base("PeftBaseModel")
        {
            this.model = model;
            register_module("model", model);
        }

        public TransformerModel model { get; }

        protected override void RegisterComponents() { }
    }

    sealed class Restore : IDisposable
    {
        readonly Action _action;
        bool _done;
        public Restore(Action action) => _action = action;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            _action();
        }
    }
}
