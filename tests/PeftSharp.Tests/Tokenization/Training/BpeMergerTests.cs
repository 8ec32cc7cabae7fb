using PeftSharp.Tokenization.Training;

namespace PeftSharp.Tests.Tokenization.Training;

/// <summary>The merge loop against runs traced by hand.</summary>
public class BpeMergerTests
{
    // The Hugging Face course's corpus: hug x10, pug x5, pun x12, bun x4, hugs x5.
    static readonly (string Word, long Count)[] Corpus = [("hug", 10), ("pug", 5), ("pun", 12), ("bun", 4), ("hugs", 5)];

    static BpeMerger Merger(IEnumerable<(string Word, long Count)> words) =>
        new(["b", "g", "h", "n", "p", "s", "u"], words.Select(w => (w.Word.Select(c => c.ToString()).ToArray(), w.Count)).ToList(), (l, r) => l + r);

    [Fact]
    public void MergesTheMostFrequentPairFirst()
    {
        // Pairs: u g 20 (hug, pug, hugs), p u 17, u n 16, h u 15, g s 5, b u 4 -> "ug".
        // Then u n 16 (pun, bun) -> "un"; h ug 15 -> "hug"; p un 12 -> "pun";
        // then hug s 5 ties with p ug 5: "hug" < "p" lexically -> "hugs" first, then "pug", then b un 4 -> "bun".
        var merger = Merger(Corpus);
        var merges = merger.Merge(100, minFrequency: 1);
        Assert.Equal([("u", "g"), ("u", "n"), ("h", "ug"), ("p", "un"), ("hug", "s"), ("p", "ug"), ("b", "un")], merges);
        Assert.Equal(["b", "g", "h", "n", "p", "s", "u", "ug", "un", "hug", "pun", "hugs", "pug", "bun"], merger.Tokens);
    }

    [Fact]
    public void StopsAtTheMergeBudgetOrBelowTheMinimumFrequency()
    {
        Assert.Equal(3, Merger(Corpus).Merge(3, minFrequency: 1).Count);
        // Counts of the merges are 20, 16, 15, 12, 5, 5, 4: a minimum of 5 stops before "bun".
        Assert.Equal(6, Merger(Corpus).Merge(100, minFrequency: 5).Count);
        Assert.Empty(Merger(Corpus).Merge(100, minFrequency: 21));
    }

    [Fact]
    public void RepeatedSymbolsMergeLeftToRight()
    {
        // "aaaa" holds (a, a) three times and "aaa" twice; merged left to right they become [aa, aa] and [aa, a].
        // (aa, a) and (aa, aa) then tie at 1; "a" < "aa" puts (aa, a) first, making "aaa"; then (aa, aa) makes "aaaa".
        var merger = new BpeMerger(["a"], [(["a", "a", "a", "a"], 1), (["a", "a", "a"], 1)], (l, r) => l + r);
        Assert.Equal([("a", "a"), ("aa", "a"), ("aa", "aa")], merger.Merge(10, minFrequency: 1));
        Assert.Equal(["a", "aa", "aaa", "aaaa"], merger.Tokens);
    }

    [Fact]
    public void ResultsDoNotDependOnTheOrderOfTheWords()
    {
        var forward = Merger(Corpus).Merge(100, 1);
        var backward = Merger(Corpus.Reverse()).Merge(100, 1);
        Assert.Equal(forward, backward);
    }

    [Fact]
    public void RefusesSymbolsOutsideTheAlphabet()
    {
        Assert.Throws<ArgumentException>(() => new BpeMerger(["a"], [(["a", "b"], 1)], (l, r) => l + r));
        Assert.Throws<ArgumentException>(() => new BpeMerger(["a", "a"], [], (l, r) => l + r));
    }
}
