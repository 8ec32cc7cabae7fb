using PeftSharp.Data;

namespace PeftSharp.Tests.Data;

public class DataSplitterTests
{
    static readonly int[] Items = Enumerable.Range(0, 101).ToArray();

    [Fact]
    public void SplitIsDisjointCompleteAndInFileOrder()
    {
        var (train, validation) = DataSplitter.Split(Items, 0.2, seed: 42);
        Assert.Equal(20, validation.Count); // round(101 * 0.2)
        Assert.Equal(Items, train.Concat(validation).Order());
        Assert.Equal(train.Order(), train);
        Assert.Equal(validation.Order(), validation);
    }

    [Fact]
    public void SameSeedSameSplitOtherSeedOtherSplit()
    {
        Assert.Equal(DataSplitter.Split(Items, 0.1, 7).Validation, DataSplitter.Split(Items, 0.1, 7).Validation);
        Assert.NotEqual(DataSplitter.Split(Items, 0.1, 7).Validation, DataSplitter.Split(Items, 0.1, 8).Validation);
        // Pinned: the generator (SplitMix64) and the shuffle are part of the format; these stay the same on every platform.
        Assert.Equal([6, 8], DataSplitter.Split(Enumerable.Range(0, 10).ToArray(), 0.2, 1).Validation);
    }

    [Fact]
    public void BothPartsAreNeverEmpty()
    {
        Assert.Single(DataSplitter.Split([1, 2], 0.01, 1).Validation);
        Assert.Single(DataSplitter.Split([1, 2], 0.99, 1).Train);
        Assert.Throws<ArgumentException>(() => DataSplitter.Split([1], 0.5, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DataSplitter.Split(Items, 1.0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DataSplitter.Split(Items, double.NaN, 1));
    }
}
