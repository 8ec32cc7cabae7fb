using static PeftSharp.Tuners.Adapters.AdapterComposition;
using Parallel = PeftSharp.Tuners.Adapters.AdapterComposition.Parallel;

namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// Which compositions a model can run. Nesting follows AdapterHub: Stack holds adapters, Fuse, Parallel, Average and
/// BatchSplit; Fuse holds adapters and Stacks; Parallel holds adapters, Stack, Average and BatchSplit; Average holds
/// adapters, Stack and BatchSplit; BatchSplit holds adapters, Stack, Average and BatchSplit; below the second level only
/// Stacks and adapters. Fuse blocks need a fusion adapter over their children and fuse bottleneck adapters only.
/// Adapters of other methods (LoRA, IA3, ...) act once per layer: they may sit in Stacks (all active), in Parallel and
/// BatchSplit branches (each row uses its branch's last adapter), and in an Average that is the whole composition over
/// plain adapters (a weighted combination in every layer); never in a Fuse.
/// </summary>
internal static class CompositionRules
{
    /// <exception cref="ArgumentException">The composition names an unknown adapter or breaks a rule; the message says which.</exception>
    public static void Validate(PeftModel peft, AdapterComposition root, AdapterSetupState state)
    {
        Check(peft, root, root, level: 0);
        var replicas = Blocks(root).OfType<Parallel>().Select(p => p.Items.Count).Distinct().ToList();
        if (replicas.Count > 1) Fail(root, $"every Parallel block must have the same number of branches, found {string.Join(" and ", replicas)}");
        foreach (var block in Blocks(root))
        {
            var layerAdapters = block.AdapterNames().Where(a => peft.Adapters[a] is not (BottleneckConfig or FusionConfig)).ToList();
            if (layerAdapters.Count == 0) continue;
            if (block is Fuse) Fail(root, $"{block} fuses {string.Join(", ", layerAdapters)}; AdapterFusion combines bottleneck adapters only");
            if (block is Average && (!ReferenceEquals(block, root) || block.Children.Any(c => c is not Adapter)))
                Fail(root, $"{block} averages {string.Join(", ", layerAdapters)} ({peft.Adapters[layerAdapters[0]].PeftType}): such adapters average as the whole composition over plain adapters only");
        }
        foreach (var fuse in Blocks(root).OfType<Fuse>()) state.FusionFor(fuse);
    }

    static void Check(PeftModel peft, AdapterComposition root, AdapterComposition node, int level)
    {
        if (level > 1 && node is not (Stack or Adapter)) Fail(root, $"{node} is nested too deep: below the second level only Stacks and adapters");
        if (node is Adapter { Name: var name })
        {
            if (string.IsNullOrEmpty(name) || !peft.Adapters.ContainsKey(name))
                Fail(root, $"no adapter named '{name}' (adapters: {string.Join(", ", peft.Adapters.Keys)})");
            return;
        }
        foreach (var child in node.Children)
        {
            if (!Allowed(node, child)) Fail(root, $"{node} cannot hold {child}");
            Check(peft, root, child, level + 1);
        }
        if (node is Fuse fuse)
            foreach (string adapter in fuse.AdapterNames().Where(a => peft.Adapters[a] is FusionConfig))
                Fail(root, $"{fuse} holds the fusion '{adapter}'; fusions do not nest");
    }

    static bool Allowed(AdapterComposition parent, AdapterComposition child) => (parent, child) switch
    {
        (_, Adapter) => true,
        (Stack, Fuse or Parallel or Average or BatchSplit) => true,
        (Fuse, Stack) => true,
        (Parallel, Stack or Average or BatchSplit) => true,
        (Average, Stack or BatchSplit) => true,
        (BatchSplit, Stack or Average or BatchSplit) => true,
        _ => false,
    };

    static IEnumerable<AdapterComposition> Blocks(AdapterComposition node) =>
        node is Adapter ? Enumerable.Empty<AdapterComposition>() : new[] { node }.Concat(node.Children.SelectMany(Blocks));

    static void Fail(AdapterComposition root, string message) => throw new ArgumentException($"composition {root}: {message}", "composition");
}
