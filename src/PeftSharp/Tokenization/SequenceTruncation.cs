namespace PeftSharp.Tokenization;

/// <summary>Hugging Face's "longest_first" truncation of one sequence or a pair to a token budget.</summary>
static class SequenceTruncation
{
    /// <summary>Shortens <paramref name="a"/> (and <paramref name="b"/>) in place so that together they hold at most <paramref name="budget"/> tokens.</summary>
    /// <remarks>
    /// For a pair the shorter sequence keeps its length when the longer one can absorb the whole cut; otherwise both
    /// are cut to half the budget (the second getting the odd token), as the tokenizers library does.
    /// </remarks>
    public static void Truncate(List<int> a, List<int>? b, int budget, TruncationSide side)
    {
        if (a.Count + (b?.Count ?? 0) <= budget) return;
        if (b is null)
        {
            Cut(a, budget, side);
            return;
        }
        bool swap = a.Count > b.Count;
        int shorter = Math.Min(a.Count, b.Count), longer;
        longer = shorter > budget ? shorter : Math.Max(shorter, budget - shorter);
        if (shorter + longer > budget)
        {
            shorter = budget / 2;
            longer = shorter + budget % 2;
        }
        Cut(a, swap ? longer : shorter, side);
        Cut(b, swap ? shorter : longer, side);
    }

    static void Cut(List<int> ids, int keep, TruncationSide side)
    {
        if (ids.Count <= keep) return;
        if (side == TruncationSide.Right) ids.RemoveRange(keep, ids.Count - keep);
        else ids.RemoveRange(0, ids.Count - keep);
    }
}
