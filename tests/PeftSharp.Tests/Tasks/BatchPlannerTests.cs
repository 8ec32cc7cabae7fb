using PeftSharp.Tasks;

namespace PeftSharp.Tests.Tasks;

public class BatchPlannerTests
{
    static readonly int[] Lengths = Enumerable.Range(0, 1000).Select(i => 3 + (i * 7919) % 97).ToArray();

    [Fact]
    public void EveryExampleOncePerEpoch()
    {
        var plan = BatchPlanner.Epoch(Lengths, batchSize: 16, bucketBatches: 50, epoch: 3, seed: 42);
        Assert.Equal(Enumerable.Range(0, 1000), plan.SelectMany(b => b).Order());
        Assert.Equal(63, plan.Count); // ceil(1000 / 16)
        Assert.Single(plan, b => b.Length != 16);
    }

    [Fact]
    public void ReproducibleFromEpochAndSeed()
    {
        var a = BatchPlanner.Epoch(Lengths, 16, 50, epoch: 2, seed: 7);
        var b = BatchPlanner.Epoch(Lengths, 16, 50, epoch: 2, seed: 7);
        Assert.Equal(a, b);
        Assert.NotEqual(a, BatchPlanner.Epoch(Lengths, 16, 50, epoch: 3, seed: 7));
        Assert.NotEqual(a, BatchPlanner.Epoch(Lengths, 16, 50, epoch: 2, seed: 8));
    }

    [Fact]
    public void BucketingGroupsSimilarLengthsAndStillShufflesBatches()
    {
        double Padding(List<int[]> plan) => plan.Sum(b => b.Max(i => Lengths[i]) * b.Length - b.Sum(i => Lengths[i]));
        var bucketed = BatchPlanner.Epoch(Lengths, 16, 50, epoch: 0, seed: 1);
        var unbucketed = BatchPlanner.Epoch(Lengths, 16, 1, epoch: 0, seed: 1);
        Assert.True(Padding(bucketed) < Padding(unbucketed) / 5, $"padding {Padding(bucketed)} vs {Padding(unbucketed)}");
        // Batches are not served longest-first: the first batches' longest lengths are not sorted.
        var firstLongest = bucketed.Take(10).Select(b => b.Max(i => Lengths[i])).ToList();
        Assert.NotEqual(firstLongest.OrderByDescending(x => x), firstLongest);
    }

    [Fact]
    public void EvaluationTakesEveryExampleLongestFirst()
    {
        var plan = BatchPlanner.Sequential(Lengths, 64);
        var order = plan.SelectMany(b => b).ToList();
        Assert.Equal(Enumerable.Range(0, 1000), order.Order());
        Assert.Equal(order.Select(i => Lengths[i]).OrderByDescending(l => l), order.Select(i => Lengths[i]));
    }

    [Fact]
    public void OptionsValidateTheirValues()
    {
        Assert.Equal("BatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchingOptions { BatchSize = 0 }).ParamName);
        Assert.Equal("MaxLength", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchingOptions { MaxLength = 2 }).ParamName);
        Assert.Equal("BucketBatches", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchingOptions { BucketBatches = 0 }).ParamName);
        Assert.Equal("Probability", Assert.Throws<ArgumentOutOfRangeException>(() => new MaskingOptions { Probability = 1 }).ParamName);
    }
}
