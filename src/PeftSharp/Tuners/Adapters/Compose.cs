using static PeftSharp.Tuners.Adapters.AdapterComposition;
using Parallel = PeftSharp.Tuners.Adapters.AdapterComposition.Parallel;

namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// Builds adapter compositions: <c>Compose.Stack("lang", "task")</c>, <c>Compose.Fuse("a", "b", "c")</c>,
/// <c>Compose.Parallel("a", "b")</c>, <c>Compose.Average(("a", 0.7), ("b", 0.3))</c>,
/// <c>Compose.BatchSplit(("a", 2), ("b", 3))</c>. Shapes are checked here; adapter names and nesting when the tree is
/// activated (<see cref="PeftModelComposition.SetComposition"/>).
/// </summary>
public static class Compose
{
    /// <summary>Children applied in sequence at every site.</summary>
    public static Stack Stack(params AdapterComposition[] children) => new(Require(children, nameof(children)));

    /// <summary>AdapterFusion over the children (a fusion adapter over them must exist).</summary>
    public static Fuse Fuse(params AdapterComposition[] children) => new(Require(children, nameof(children)));

    /// <summary>Each child on its own replica of the batch, in one pass.</summary>
    public static Parallel Parallel(params AdapterComposition[] children) => new(Require(children, nameof(children)));

    /// <summary>Weighted mean of the children's outputs; the weights are normalised to sum to 1.</summary>
    /// <exception cref="ArgumentException">No child, a weight that is not finite, or weights summing to zero.</exception>
    public static Average Average(params (AdapterComposition Adapter, double Weight)[] children)
    {
        Require(children, nameof(children));
        if (children.Any(c => !double.IsFinite(c.Weight))) throw new ArgumentException("every weight must be a finite number", nameof(children));
        double sum = children.Sum(c => c.Weight);
        if (Math.Abs(sum) < 1e-12) throw new ArgumentException("the weights sum to zero and cannot be normalised", nameof(children));
        return new Average(children.Select(c => c.Adapter).ToList(), children.Select(c => c.Weight / sum).ToList());
    }

    /// <summary>Equal weights over the children.</summary>
    public static Average Average(params AdapterComposition[] children) => Average(children.Select(c => (c, 1.0)).ToArray());

    /// <summary>The first <c>Rows</c> rows of the batch to the first child, the next to the second, and so on.</summary>
    /// <exception cref="ArgumentException">No child or a row count below 1.</exception>
    public static BatchSplit BatchSplit(params (AdapterComposition Adapter, int Rows)[] children)
    {
        Require(children, nameof(children));
        if (children.Any(c => c.Rows < 1)) throw new ArgumentException("every child needs at least one row (batch_sizes)", nameof(children));
        return new BatchSplit(children.Select(c => c.Adapter).ToList(), children.Select(c => c.Rows).ToList());
    }

    static T[] Require<T>(T[] children, string name)
    {
        if (children is null || children.Length == 0) throw new ArgumentException("a composition block needs at least one child", name);
        return children;
    }
}
