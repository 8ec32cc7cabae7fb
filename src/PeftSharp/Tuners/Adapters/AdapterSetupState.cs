using System.Runtime.CompilerServices;
using static PeftSharp.Tuners.Adapters.AdapterComposition;
using Parallel = PeftSharp.Tuners.Adapters.AdapterComposition.Parallel;

namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// What every adapter site of one <see cref="PeftModel"/> shares: the fusions (fusion adapter -> the adapters it fuses)
/// and the composition set with <see cref="PeftModelComposition.SetComposition"/>. Site handlers hold a reference and
/// read it in their forward pass, so a new composition takes effect everywhere at once.
/// </summary>
internal sealed class AdapterSetupState
{
    static readonly ConditionalWeakTable<PeftModel, AdapterSetupState> States = new();

    /// <summary>The state of <paramref name="peft"/> (created on first use).</summary>
    public static AdapterSetupState Of(PeftModel peft) => States.GetValue(peft, _ => new AdapterSetupState());

    /// <summary>Fusion adapters by name, with the adapters each fuses in order.</summary>
    public Dictionary<string, IReadOnlyList<string>> Fusions { get; } = new(StringComparer.Ordinal);

    /// <summary>The composition last set; it applies while the active adapters are the ones it activated.</summary>
    public AdapterComposition? Composition { get; set; }

    /// <summary>
    /// The setup that <paramref name="active"/> stands for: the composition set last when it activated exactly these
    /// adapters, otherwise the active adapters as a Stack (a fusion name standing for Fuse over its adapters); null if none.
    /// </summary>
    public AdapterComposition? Resolve(IReadOnlyList<string> active)
    {
        if (Composition is { } composition && ActivationList(composition).SequenceEqual(active, StringComparer.Ordinal)) return composition;
        return active.Count switch
        {
            0 => null,
            1 => active[0],
            _ => new Stack(active.Select(a => (AdapterComposition)a).ToList()),
        };
    }

    /// <summary>The adapter names a composition activates: its adapters in order, a Fuse by its fusion adapter.</summary>
    /// <exception cref="ArgumentException">A Fuse block has no fusion adapter over its children.</exception>
    public IReadOnlyList<string> ActivationList(AdapterComposition node) => Activated(node).Distinct(StringComparer.Ordinal).ToList();

    IEnumerable<string> Activated(AdapterComposition node) => node switch
    {
        Adapter leaf => new[] { leaf.Name },
        Fuse fuse => new[] { FusionFor(fuse) },
        _ => node.Children.SelectMany(Activated),
    };

    /// <summary>The fusion adapter over a Fuse block's children (by their last adapters, in any order).</summary>
    /// <exception cref="ArgumentException">There is none.</exception>
    public string FusionFor(Fuse fuse)
    {
        var wanted = fuse.Items.Select(c => c.Last).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, fused) in Fusions)
            if (wanted.SetEquals(fused)) return name;
        throw new ArgumentException(
            $"{fuse}: no fusion over {string.Join(", ", wanted)}; add one with AddAdapter(name, new FusionConfig {{ Adapters = [...] }})", "composition");
    }

    /// <summary>The fusion a leaf name stands for, as a Fuse block; null when the name is not a fusion.</summary>
    public Fuse? AsFuse(string name) =>
        Fusions.TryGetValue(name, out var fused) ? new Fuse(fused.Select(a => (AdapterComposition)a).ToList()) : null;

    /// <summary>The fusions other than <paramref name="adapter"/> itself that fuse it.</summary>
    public IReadOnlyList<string> FusionsUsing(string adapter) =>
        Fusions.Where(f => f.Key != adapter && f.Value.Contains(adapter, StringComparer.Ordinal)).Select(f => f.Key).ToList();

    /// <summary>Forgets a deleted fusion; a composition set over it no longer applies.</summary>
    public void RemoveFusion(string name)
    {
        if (Fusions.Remove(name)) Composition = null;
    }

    /// <summary>Fails when <paramref name="adapter"/> is fused by a fusion that still exists (delete the fusion first).</summary>
    public void EnsureDeletable(string adapter)
    {
        var users = FusionsUsing(adapter);
        if (users.Count > 0)
            throw new InvalidOperationException($"adapter '{adapter}' is fused by {string.Join(", ", users)}; delete the fusion first");
    }
}
