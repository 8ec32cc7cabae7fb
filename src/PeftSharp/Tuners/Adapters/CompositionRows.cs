using static PeftSharp.Tuners.Adapters.AdapterComposition;
using Parallel = PeftSharp.Tuners.Adapters.AdapterComposition.Parallel;

namespace PeftSharp.Tuners.Adapters;

/// <summary>Row bookkeeping of Parallel and BatchSplit blocks: which rows of a batch each branch takes.</summary>
internal static class CompositionRows
{
    /// <summary>Whether the tree routes rows (holds a Parallel or BatchSplit block).</summary>
    public static bool SplitsRows(AdapterComposition node) => node is Parallel or BatchSplit || node.Children.Any(SplitsRows);

    /// <summary>How many replicas of the inputs the tree needs: the child count of its Parallel blocks (1 without).</summary>
    public static int Replicas(AdapterComposition node) =>
        node is Parallel parallel ? parallel.Items.Count : node.Children.Select(Replicas).DefaultIfEmpty(1).Max();

    /// <summary>The rows [Start, Start + Length) each branch of a Parallel or BatchSplit block takes in a batch of <paramref name="batch"/> rows.</summary>
    /// <exception cref="InvalidOperationException">A Parallel block sees a batch that is not its replicas (the PeftModel was bypassed).</exception>
    /// <exception cref="ArgumentException">BatchSplit sizes that do not add up to the batch.</exception>
    public static IReadOnlyList<(long Start, long Length, AdapterComposition Branch)> Branches(AdapterComposition node, long batch)
    {
        switch (node)
        {
            case Parallel parallel:
                int n = parallel.Items.Count;
                if (batch % n != 0)
                    throw new InvalidOperationException($"{parallel}: a batch of {batch} rows is not {n} replicas of the inputs; run the PeftModel, which replicates them");
                long size = batch / n;
                return parallel.Items.Select((branch, i) => (i * size, size, branch)).ToList();
            case BatchSplit split:
                long total = split.BatchSizes.Sum(s => (long)s);
                if (total != batch)
                    throw new ArgumentException($"{split}: batch_sizes add up to {total} rows but the batch has {batch}", "batch_sizes");
                var branches = new List<(long, long, AdapterComposition)>();
                long start = 0;
                for (int i = 0; i < split.Items.Count; i++)
                {
                    branches.Add((start, split.BatchSizes[i], split.Items[i]));
                    start += split.BatchSizes[i];
                }
                return branches;
            default:
                throw new ArgumentException($"{node} does not split rows", nameof(node));
        }
    }

    /// <summary>The first adapter of the branch each group of rows belongs to (it picks the invertible adapter).</summary>
    public static IEnumerable<(long Start, long Length, string Adapter)> FirstAdapters(AdapterComposition node, long batch, long offset = 0)
    {
        if (node is Adapter leaf) return new[] { (offset, batch, leaf.Name) };
        if (node is not (Parallel or BatchSplit)) return FirstAdapters(node.Children[0], batch, offset);
        return Branches(node, batch).SelectMany(b => FirstAdapters(b.Branch, b.Length, offset + b.Start));
    }

    /// <summary>
    /// The one adapter each row uses in layers that take one adapter a row (LoRA, IA3, modules_to_save copies): the last
    /// adapter of its branch, a Fuse block by its fusion adapter.
    /// </summary>
    public static string[] Labels(AdapterComposition node, long batch, AdapterSetupState state) => node switch
    {
        Adapter leaf => Enumerable.Repeat(leaf.Name, (int)batch).ToArray(),
        Fuse fuse => Enumerable.Repeat(state.FusionFor(fuse), (int)batch).ToArray(),
        Parallel or BatchSplit => Branches(node, batch).SelectMany(b => Labels(b.Branch, b.Length, state)).ToArray(),
        _ => Labels(node.Children[^1], batch, state),
    };
}
