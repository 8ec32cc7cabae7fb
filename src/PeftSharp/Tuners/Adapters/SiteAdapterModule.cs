using PeftSharp.Modules;
using PeftSharp.Tuners.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// Bookkeeping shared by the handlers PeftSharp attaches to an <see cref="AdapterSite"/> (bottleneck adapters after
/// sublayers, invertible adapters at the embeddings): the active adapters, disabling, loading an adapter's tensors, and
/// detaching from the site on unload. The active adapters resolve to a composition through the model's shared
/// <see cref="AdapterSetupState"/>.
/// </summary>
public abstract class SiteAdapterModule : nn.Module<Tensor, Tensor, Tensor>, IDetachableAdapter
{
    List<string> _active = new();

    private protected SiteAdapterModule(string name, AdapterSetupState state) : base(name) => State = state;

    /// <summary>Children are registered explicitly under AdapterHub's names; no field reflection.</summary>
    protected override void RegisterComponents() { }

    private protected AdapterSetupState State { get; }

    public abstract IReadOnlyCollection<string> AdapterNames { get; }

    public IReadOnlyList<string> ActiveAdapters => _active.Where(AdapterNames.Contains).ToList();

    /// <summary>Remembers every active name (a composition may name adapters held at other sites).</summary>
    public void SetActiveAdapters(IReadOnlyList<string> names) => _active = names.ToList();

    public bool AdaptersDisabled { get; set; }

    /// <summary>The composition the active adapters stand for (null when none is active).</summary>
    private protected AdapterComposition? Setup => State.Resolve(_active);

    public abstract void DeleteAdapter(string name);

    public abstract IEnumerable<Parameter> AdapterParameters(string name);

    public abstract IEnumerable<(string Key, Tensor Value)> AdapterState(string name);

    public void LoadAdapterState(string name, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var targets = AdapterState(name).ToDictionary(t => t.Key, t => t.Value);
        AdapterLayer.CheckKeys(tensors, targets.Keys);
        foreach (var (key, value) in tensors) AdapterLayer.CopyChecked(targets[key], value, key);
    }

    /// <summary>Removes this handler from the site it is attached to (<paramref name="path"/> is "&lt;site path&gt;.&lt;handler name&gt;").</summary>
    public virtual void DetachFrom(nn.Module model, string path)
    {
        var (sitePath, handler) = ModuleTree.Split(path);
        if (ModuleTree.Get(model, sitePath) is not AdapterSite site)
            throw new InvalidOperationException($"'{path}' is not attached to an adapter site");
        site.Detach(handler);
    }

    /// <summary>Rows [start, start + length) of a [B, ...] tensor.</summary>
    private protected static Tensor Rows(Tensor tensor, long start, long length) =>
        start == 0 && length == tensor.shape[0] ? tensor : tensor.narrow(0, start, length);
}
