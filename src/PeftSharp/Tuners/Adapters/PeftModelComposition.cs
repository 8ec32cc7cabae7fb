using PeftSharp.Tuners.Common;
using static PeftSharp.Tuners.Adapters.AdapterComposition;
using Parallel = PeftSharp.Tuners.Adapters.AdapterComposition.Parallel;

namespace PeftSharp.Tuners.Adapters;

/// <summary>Activating an adapter composition (<see cref="AdapterComposition"/>) on a <see cref="PeftModel"/>.</summary>
public static class PeftModelComposition
{
    /// <summary>
    /// Makes <paramref name="composition"/> the active setup: its adapters become the active ones (a Fuse by its fusion
    /// adapter) and every adapter site, LoRA/IA3 layer and trained module copy follows it. Bottleneck sites apply the tree
    /// as <see cref="AdapterComposition"/> describes; layers of other methods see Stack as "all active", a top-level
    /// Average as the weighted combination sum_i w_i layer_i(x), and Parallel/BatchSplit as per-row adapters (each row
    /// its branch's last adapter). Copies of the task head (modules_to_save) follow the last adapter, as AdapterHub's heads.
    /// The setup holds until the active adapters change (e.g. <see cref="PeftModel.SetAdapter"/>). Only
    /// <paramref name="train"/> (an adapter or fusion name) trains; with null nothing does.
    /// </summary>
    /// <exception cref="ArgumentException">The composition names an unknown adapter, lacks a fusion, or nests blocks in a way the model cannot run.</exception>
    public static void SetComposition(this PeftModel peft, AdapterComposition composition, string? train = null)
    {
        ArgumentNullException.ThrowIfNull(composition);
        var state = AdapterSetupState.Of(peft);
        CompositionRules.Validate(peft, composition, state);
        if (train is not null && !peft.Adapters.ContainsKey(train))
            throw new ArgumentException($"no adapter named '{train}' to train (adapters: {string.Join(", ", peft.Adapters.Keys)})", nameof(train));
        var activation = state.ActivationList(composition);
        peft.SetAdapter(activation.ToArray());
        state.Composition = composition;
        var (weights, everyLayer) = LayerWeights(composition, state);
        var heads = peft.Model.HeadModules;
        if (activation.Count > 1)
            foreach (var (path, module) in peft.AdapterModules())
                if (module is AdapterLayer layer && (everyLayer || heads.Any(h => path == h || path.StartsWith(h + ".", StringComparison.Ordinal))))
                    layer.AdapterWeights = weights;
        if (CompositionRows.SplitsRows(composition)) peft.ForwardAdapter(CompositionInputs.ModuleName, () => new CompositionInputs(state));
        foreach (var parameter in peft.parameters()) parameter.requires_grad = false;
        if (train is not null) peft.MarkTrainable(train);
    }

    /// <summary>
    /// Weights for layers that take whole adapters (LoRA, IA3, trained copies): a top-level Average weights every such
    /// layer; otherwise, as AdapterHub picks heads, the task head's copies follow the last adapter (or fusion) alone,
    /// and other layers keep all active adapters. Parallel and BatchSplit route rows instead (null).
    /// </summary>
    static (IReadOnlyDictionary<string, double>? Weights, bool All) LayerWeights(AdapterComposition composition, AdapterSetupState state)
    {
        if (composition is Average average)
        {
            var weights = new Dictionary<string, double>(StringComparer.Ordinal);
            for (int i = 0; i < average.Items.Count; i++)
                weights[average.Items[i].Last] = weights.GetValueOrDefault(average.Items[i].Last) + average.Weights[i];
            return (weights, true);
        }
        if (CompositionRows.SplitsRows(composition)) return (null, false);
        return (new Dictionary<string, double> { [CompositionRows.Labels(composition, 1, state)[0]] = 1.0 }, false);
    }

    /// <summary>
    /// The setup the model runs: the composition set last while its adapters are the active ones, else the active adapters
    /// as a Stack (one adapter alone as itself); null when no adapter is active.
    /// </summary>
    public static AdapterComposition? ActiveComposition(this PeftModel peft) => AdapterSetupState.Of(peft).Resolve(peft.ActiveAdapters);
}
