using PeftSharp.Modules;
using PeftSharp.Tuners.Common;
using TorchSharp.Modules;
using static PeftSharp.Tuners.Adapters.AdapterComposition;
using Parallel = PeftSharp.Tuners.Adapters.AdapterComposition.Parallel;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// The bottleneck adapters and fusions at one <see cref="AdapterSite"/> (a block's attention or feed-forward output),
/// attached as the site's "bottleneck" handler. It applies the active composition to (h, x), h the sublayer's output
/// and x its input: an adapter a gives h + d_a (d_a = <see cref="BottleneckAdapter"/> of h, or of x when parallel), and
/// blocks combine as <see cref="AdapterComposition"/> describes. Under mixed-batch routing each row uses its own adapter.
/// Module tree and saved keys follow AdapterHub: adapters.&lt;name&gt;.adapter_down.weight is saved as
/// "adapter_down.weight", adapter_fusion_layer.&lt;fusion&gt;.query.weight as "adapter_fusion_layer.query.weight".
/// Bottleneck adapters are non-linear and cannot be merged into base weights.
/// </summary>
public sealed class BottleneckAdapterLayer : SiteAdapterModule
{
    /// <summary>Name of the handler at a site.</summary>
    public const string HandlerName = "bottleneck";

    const string FusionPrefix = "adapter_fusion_layer.";

    readonly AdapterModules<BottleneckAdapter> adapters = new();
    readonly AdapterModules<AdapterFusionLayer> adapter_fusion_layer = new();

    internal BottleneckAdapterLayer(long hidden, AdapterSetupState state) : base(nameof(BottleneckAdapterLayer), state)
    {
        Hidden = hidden;
        register_module("adapters", adapters);
        register_module("adapter_fusion_layer", adapter_fusion_layer);
    }

    /// <summary>Hidden size of the site.</summary>
    public long Hidden { get; }

    /// <summary>The adapter named <paramref name="name"/> at this site.</summary>
    public BottleneckAdapter Adapter(string name) => adapters[name];

    /// <summary>The fusion named <paramref name="name"/> at this site.</summary>
    public AdapterFusionLayer Fusion(string name) => adapter_fusion_layer[name];

    public override IReadOnlyCollection<string> AdapterNames => adapters.Names.Concat(adapter_fusion_layer.Names).ToList();

    /// <summary>Adds adapter <paramref name="name"/> with the settings of <paramref name="config"/>.</summary>
    public void AddAdapter(string name, BottleneckConfig config) => adapters.Add(name, new BottleneckAdapter(Hidden, config));

    /// <summary>Adds fusion <paramref name="name"/> (over adapters held here or at other sites).</summary>
    public void AddFusion(string name, FusionConfig config) => adapter_fusion_layer.Add(name, new AdapterFusionLayer(Hidden, config));

    /// <summary>Whether adapter (or fusion) <paramref name="name"/> has anything at this site.</summary>
    public bool Holds(string name) => adapters.Contains(name) || adapter_fusion_layer.Contains(name);

    public override void DeleteAdapter(string name)
    {
        State.EnsureDeletable(name);
        adapters.Remove(name);
        adapter_fusion_layer.Remove(name);
        State.RemoveFusion(name);
    }

    public override IEnumerable<Parameter> AdapterParameters(string name) =>
        adapters.Contains(name) ? adapters[name].parameters() :
        adapter_fusion_layer.Contains(name) ? adapter_fusion_layer[name].parameters() : Enumerable.Empty<Parameter>();

    public override IEnumerable<(string Key, Tensor Value)> AdapterState(string name)
    {
        if (adapters.Contains(name)) return adapters[name].named_parameters().Select(p => (p.name, (Tensor)p.parameter));
        if (adapter_fusion_layer.Contains(name)) return adapter_fusion_layer[name].named_parameters().Select(p => (FusionPrefix + p.name, (Tensor)p.parameter));
        return Enumerable.Empty<(string, Tensor)>();
    }

    /// <summary>output h [B, T, H] of a sublayer and the input x [B, T, H] it consumed -> the adapted output [B, T, H].</summary>
    public override Tensor forward(Tensor output, Tensor input)
    {
        if (AdaptersDisabled) return output;
        var setup = Setup;
        using var scope = NewDisposeScope();
        Tensor result;
        if (setup is not null && CompositionRows.SplitsRows(setup)) result = Apply(setup, output, input);
        else if (AdapterRouting.Current is { } rows) result = Routed(output, input, rows);
        else if (setup is not null) result = Apply(setup, output, input);
        else return output;
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The composition <paramref name="node"/> applied to (h, x); adapters without a module here leave h as it is.</summary>
    Tensor Apply(AdapterComposition node, Tensor h, Tensor x)
    {
        switch (node)
        {
            case Adapter { Name: var name } when State.AsFuse(name) is { } fuse:
                return ApplyFusion(name, fuse, h, x);
            case Adapter { Name: var name }:
                if (!adapters.Contains(name)) return h;
                var adapter = adapters[name];
                return h + adapter.call(adapter.IsParallel ? x : h).to(h.dtype);
            case Stack stack:
                foreach (var child in stack.Items) h = Apply(child, h, x);
                return h;
            case Fuse fuse:
                return ApplyFusion(State.FusionFor(fuse), fuse, h, x);
            case Average average:
                Tensor? mean = null;
                for (int i = 0; i < average.Items.Count; i++)
                {
                    var term = Apply(average.Items[i], h, x) * average.Weights[i];
                    mean = mean is null ? term : mean + term;
                }
                return mean!;
            case Parallel or BatchSplit:
                var parts = CompositionRows.Branches(node, h.shape[0])
                    .Select(b => Apply(b.Branch, Rows(h, b.Start, b.Length), Rows(x, b.Start, b.Length)))
                    .ToList();
                return cat(parts, 0);
            default:
                throw new ArgumentException($"unknown composition block {node.GetType().Name}", nameof(node));
        }
    }

    /// <summary>
    /// AdapterFusion over the branches held here: contributions d_i = branch_i(h, x) - h, stacked [B, T, N, H], attended
    /// by the fusion's query/key/value. Branches with nothing here are left out (AdapterHub skips them too).
    /// </summary>
    Tensor ApplyFusion(string fusion, Fuse fuse, Tensor h, Tensor x)
    {
        var present = fuse.Items.Where(b => b.AdapterNames().Any(adapters.Contains)).ToList();
        if (present.Count == 0) return h;
        if (!adapter_fusion_layer.Contains(fusion))
            throw new InvalidOperationException($"fusion '{fusion}' has no layer at this site, which holds {string.Join(", ", present)}");
        var contributions = stack(present.Select(b => Apply(b, h, x) - h).ToList(), 2);   // [B, T, N, H]
        return adapter_fusion_layer[fusion].call(h, contributions);
    }

    /// <summary>Mixed-batch inference: each group of rows through its own adapter (or fusion); other rows unchanged.</summary>
    Tensor Routed(Tensor h, Tensor x, IReadOnlyList<string> rows)
    {
        var result = h;
        foreach (var (adapter, indices) in AdapterRouting.Groups(rows, h.shape[0], AdapterNames, h.device))
        {
            var adapted = Apply(adapter, h.index_select(0, indices), x.index_select(0, indices));
            result = result.index_copy(0, indices, adapted);
        }
        return result;
    }
}
