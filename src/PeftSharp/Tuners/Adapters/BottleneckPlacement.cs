namespace PeftSharp.Tuners.Adapters;

/// <summary>Where bottleneck adapters sit in each transformer block, and what they read.</summary>
public enum BottleneckPlacement
{
    /// <summary>
    /// Houlsby et al. 2019: after the attention sublayer and after the feed-forward sublayer, each reading the sublayer's
    /// output h and returning h + s up(f(down(h))), before the residual add (and LayerNorm). AdapterHub's DoubleSeqBnConfig.
    /// </summary>
    Houlsby,

    /// <summary>Pfeiffer et al. 2021: the same adapter after the feed-forward sublayer only. AdapterHub's SeqBnConfig.</summary>
    Pfeiffer,

    /// <summary>
    /// He et al. 2022: beside the feed-forward sublayer, reading its input x and adding s up(f(down(x))) to its output
    /// (scaling 4 by default). AdapterHub's ParBnConfig.
    /// </summary>
    Parallel,
}
