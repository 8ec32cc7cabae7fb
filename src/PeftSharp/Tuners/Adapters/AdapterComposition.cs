namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// An adapter setup as a small tree, as AdapterHub's composition blocks: a leaf names an adapter (or a fusion), a block
/// says how its children combine at every adapter site. Build trees with <see cref="Compose"/> and activate one with
/// <see cref="PeftModelComposition.SetComposition"/>. With h the site's output and x the sublayer's input, each node maps
/// (h, x) to a new output:
/// an adapter a gives f_a(h, x); Stack(c1..cn) gives c_n(...c_2(c_1(h, x), x)..., x); Fuse gives
/// h + sum_i softmax_i(q(h) . k(d_i)) V d_i with d_i = c_i(h, x) - h; Average gives sum_i w_i c_i(h, x), sum w = 1;
/// Parallel gives, on a batch replicated n times, c_i on the i-th replica; BatchSplit gives c_i on the i-th group of rows.
/// </summary>
public abstract record AdapterComposition
{
    /// <summary>A bare name stands for the adapter of that name.</summary>
    public static implicit operator AdapterComposition(string adapter) => new Adapter(adapter);

    /// <summary>The child nodes (none for a leaf).</summary>
    public abstract IReadOnlyList<AdapterComposition> Children { get; }

    /// <summary>Every adapter named in the tree, in order of appearance, each once (fusions by their leaves).</summary>
    public IReadOnlyList<string> AdapterNames() =>
        (this is Adapter leaf ? new[] { leaf.Name } : Children.SelectMany(c => c.AdapterNames())).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The first adapter of the tree (AdapterHub's first(): it chooses the invertible adapter).</summary>
    public string First => this is Adapter leaf ? leaf.Name : Children[0].First;

    /// <summary>The last adapter of the tree (AdapterHub's last(): it chooses a branch's head).</summary>
    public string Last => this is Adapter leaf ? leaf.Name : Children[^1].Last;

    /// <summary>Block name and children, e.g. "Stack[lang, task]".</summary>
    public sealed override string ToString() => this is Adapter leaf ? leaf.Name : $"{GetType().Name}[{string.Join(", ", Describe())}]";

    /// <summary>Children as text (blocks with per-child numbers add them).</summary>
    protected virtual IEnumerable<string> Describe() => Children.Select(c => c.ToString());

    /// <summary>One adapter (or a fusion) by name.</summary>
    public sealed record Adapter(string Name) : AdapterComposition
    {
        public override IReadOnlyList<AdapterComposition> Children => Array.Empty<AdapterComposition>();
    }

    /// <summary>Children applied one after another at every site, each reading the previous one's output.</summary>
    public sealed record Stack(IReadOnlyList<AdapterComposition> Items) : AdapterComposition
    {
        public override IReadOnlyList<AdapterComposition> Children => Items;
    }

    /// <summary>
    /// AdapterFusion (Pfeiffer et al. 2021) over the children: attention over their outputs with learned query, key and
    /// value. Needs a fusion adapter (<see cref="FusionConfig"/>) over the children's last adapters.
    /// </summary>
    public sealed record Fuse(IReadOnlyList<AdapterComposition> Items) : AdapterComposition
    {
        public override IReadOnlyList<AdapterComposition> Children => Items;
    }

    /// <summary>
    /// One input, n outputs in one pass: the batch [B, ...] is replicated to [n B, ...] and rows i B .. (i+1) B - 1 go
    /// through child i. The model's outputs have n B rows, child by child.
    /// </summary>
    public sealed record Parallel(IReadOnlyList<AdapterComposition> Items) : AdapterComposition
    {
        public override IReadOnlyList<AdapterComposition> Children => Items;
    }

    /// <summary>Weighted mean of the children's outputs; <see cref="Weights"/> sum to 1.</summary>
    public sealed record Average(IReadOnlyList<AdapterComposition> Items, IReadOnlyList<double> Weights) : AdapterComposition
    {
        public override IReadOnlyList<AdapterComposition> Children => Items;
        protected override IEnumerable<string> Describe() => Items.Select((c, i) => $"{c}: {Weights[i]:0.###}");
    }

    /// <summary>Rows of the batch to different children: the first BatchSizes[0] rows to child 0, and so on.</summary>
    public sealed record BatchSplit(IReadOnlyList<AdapterComposition> Items, IReadOnlyList<int> BatchSizes) : AdapterComposition
    {
        public override IReadOnlyList<AdapterComposition> Children => Items;
        protected override IEnumerable<string> Describe() => Items.Select((c, i) => $"{c}: {BatchSizes[i]} rows");
    }
}
