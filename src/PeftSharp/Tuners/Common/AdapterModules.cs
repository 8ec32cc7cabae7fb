using static TorchSharp.torch;

namespace PeftSharp.Tuners.Common;

/// <summary>
/// Per-adapter child modules under one name, as Hugging Face PEFT's ModuleDicts: a LoRA layer's "lora_A" holds
/// "lora_A.default", "lora_A.other", ... so parameter names read "lora_A.&lt;adapter&gt;.weight".
/// </summary>
public sealed class AdapterModules<T> : nn.Module where T : nn.Module
{
    readonly Dictionary<string, T> _items = new(StringComparer.Ordinal);

    public AdapterModules() : base("AdapterModules") { }

    /// <summary>Children are registered explicitly under Hugging Face's names; no field reflection.</summary>
    protected override void RegisterComponents() { }

    public T this[string adapter] => _items.TryGetValue(adapter, out var item) ? item : throw new KeyNotFoundException($"no adapter '{adapter}' here");

    public bool Contains(string adapter) => _items.ContainsKey(adapter);

    public IEnumerable<string> Names => _items.Keys;

    public void Add(string adapter, T module)
    {
        if (_items.ContainsKey(adapter)) throw new ArgumentException($"adapter '{adapter}' already exists", nameof(adapter));
        _items[adapter] = module;
        register_module(adapter, module);
        module.train(training);
    }

    public void Remove(string adapter)
    {
        if (!_items.Remove(adapter, out var module)) return;
        register_module(adapter, null!);
        module.Dispose();
    }
}
