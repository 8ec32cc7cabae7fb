using PeftSharp.Modules;
using PeftSharp.Tuners.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// Invertible adapters (MAD-X, Pfeiffer et al. 2020) at the embeddings site, attached as its "invertible_adapters"
/// handler: one <see cref="NiceCouplingBlock"/> per adapter, registered under the adapter's name, so parameters read
/// "invertible_adapters.&lt;name&gt;.F.0.weight" and are saved as "F.0.weight". As in AdapterHub, the block applied
/// is the one of the first adapter of the active composition (of each branch under Parallel/BatchSplit, of each row's
/// adapter under mixed-batch routing). <see cref="InverseAdapterHandler"/>s at language-model heads apply the inverse.
/// </summary>
public sealed class InvertibleAdapterLayer : SiteAdapterModule
{
    /// <summary>Name of the handler at the embeddings site (and of the inverse at head sites).</summary>
    public const string HandlerName = "invertible_adapters";

    readonly Dictionary<string, NiceCouplingBlock> _blocks = new(StringComparer.Ordinal);

    internal InvertibleAdapterLayer(AdapterSetupState state) : base(nameof(InvertibleAdapterLayer), state) { }

    public override IReadOnlyCollection<string> AdapterNames => _blocks.Keys.ToList();

    /// <summary>The coupling block of adapter <paramref name="name"/>.</summary>
    public NiceCouplingBlock Block(string name) => _blocks[name];

    /// <summary>Adds a NICE block for adapter <paramref name="name"/>.</summary>
    public void AddAdapter(string name, long hidden, BottleneckConfig config)
    {
        if (_blocks.ContainsKey(name)) throw new ArgumentException($"adapter '{name}' already exists", nameof(name));
        var block = new NiceCouplingBlock(hidden, config);
        block.train(training);
        register_module(name, block);
        _blocks[name] = block;
    }

    public override void DeleteAdapter(string name)
    {
        State.EnsureDeletable(name);
        State.RemoveFusion(name);
        if (!_blocks.Remove(name, out var block)) return;
        register_module(name, null!);
        block.Dispose();
    }

    public override IEnumerable<Parameter> AdapterParameters(string name) =>
        _blocks.TryGetValue(name, out var block) ? block.parameters() : Enumerable.Empty<Parameter>();

    public override IEnumerable<(string Key, Tensor Value)> AdapterState(string name) =>
        _blocks.TryGetValue(name, out var block) ? block.named_parameters().Select(p => (p.name, (Tensor)p.parameter)) : Enumerable.Empty<(string, Tensor)>();

    /// <summary>Embeddings e [B, T, H] -> the invertible adapter's output [B, T, H].</summary>
    public override Tensor forward(Tensor output, Tensor input) => Transform(output, inverse: false);

    /// <summary>Final hidden states [B, T, H] -> the inverse of the same adapter's transform, before an LM head.</summary>
    public Tensor Inverse(Tensor hidden) => Transform(hidden, inverse: true);

    Tensor Transform(Tensor h, bool inverse)
    {
        if (AdaptersDisabled || _blocks.Count == 0) return h;
        var setup = Setup;
        using var scope = NewDisposeScope();
        Tensor result;
        if (setup is not null && CompositionRows.SplitsRows(setup))
        {
            var parts = CompositionRows.FirstAdapters(setup, h.shape[0]).Select(g => Apply(g.Adapter, Rows(h, g.Start, g.Length), inverse)).ToList();
            result = cat(parts, 0);
        }
        else if (AdapterRouting.Current is { } rows)
        {
            result = h;
            var held = rows.Distinct().Where(r => BlockFor(r) is not null);
            foreach (var (adapter, indices) in AdapterRouting.Groups(rows, h.shape[0], held, h.device))
                result = result.index_copy(0, indices, Apply(adapter, h.index_select(0, indices), inverse));
        }
        else if (setup is not null) result = Apply(setup.First, h, inverse);
        else return h;
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The block an adapter name uses: its own, or for a fusion its first fused adapter's; null if none.</summary>
    NiceCouplingBlock? BlockFor(string adapter) =>
        _blocks.GetValueOrDefault(State.AsFuse(adapter)?.First ?? adapter);

    Tensor Apply(string adapter, Tensor h, bool inverse) =>
        BlockFor(adapter) is { } block ? (inverse ? block.Inverse(h) : block.call(h)) : h;

    /// <summary>Detaches from the embeddings site and every inverse handler of this layer from the head sites.</summary>
    public override void DetachFrom(nn.Module model, string path)
    {
        base.DetachFrom(model, path);
        foreach (var (_, module) in model.named_modules().ToList())
            if (module is AdapterSite site && site.Handler(HandlerName) is InverseAdapterHandler inverse && ReferenceEquals(inverse.Owner, this))
                site.Detach(HandlerName);
    }
}
