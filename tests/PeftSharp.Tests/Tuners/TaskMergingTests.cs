using PeftSharp.Tuners.Lora;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners;

/// <summary>PEFT's merge_utils on hand-made tensors, with the expected values worked out by hand in the comments.</summary>
public class TaskMergingTests
{
    static Tensor T(params float[] values) => tensor(values);

    static void Equal(Tensor actual, params float[] expected) =>
        Assert.True(Fixtures.MaxAbsDiff(actual, T(expected)) < 1e-6, $"got [{string.Join(", ", actual.data<float>().ToArray())}]");

    [Fact]
    public void MagnitudePruningKeepsTheLargestValues()
    {
        Equal(TaskMerging.Prune(T(1, -3, 2, -0.5f), 0.5, random: false), 0, -3, 2, 0);          // k = floor(0.5 * 4) = 2
        Equal(TaskMerging.Prune(T(1, -3, 2, -0.5f), 0.7, random: false), 0, -3, 2, 0);          // k = floor(2.8) = 2
        Equal(TaskMerging.Prune(T(1, -3, 2, -0.5f), 0.2, random: false), 0, 0, 0, 0);           // k = 0
        Equal(TaskMerging.Prune(T(1, -3, 2, -0.5f), 1.0, random: false), 1, -3, 2, -0.5f);      // density 1 keeps all
        Assert.Throws<ArgumentException>(() => TaskMerging.Prune(T(1), -0.1, random: false));
    }

    [Fact]
    public void TaskArithmeticIsTheWeightedSum() =>
        Equal(TaskMerging.Merge("linear", new[] { T(1, 2), T(3, -1) }, new[] { 2.0, -1.0 }), -1, 5);

    [Fact]
    public void MagnitudePruneMergePrunesEachThenSums() =>
        // [1, -3, 2, -0.5] -> [0, -3, 2, 0]; [4, 1, -1.5, 0.2] -> [4, 0, -1.5, 0]; 1 * first + 2 * second.
        Equal(TaskMerging.Merge("magnitude_prune", new[] { T(1, -3, 2, -0.5f), T(4, 1, -1.5f, 0.2f) }, new[] { 1.0, 2.0 }, density: 0.5), 8, -3, -1, 0);

    [Fact]
    public void TiesByTotalElectsTheSignOfTheSum()
    {
        // Sums [-1, -1, 4, -5] elect [-, -, +, -]; t1 agrees at 1..3, t2 (weighted [-4, 2, 2, -2]) at 0, 2, 3.
        // Kept sums [-4, -2, 5, -6] over counts [1, 1, 2, 2].
        var merged = TaskMerging.Merge("ties", new[] { T(1, -2, 3, -4), T(-2, 1, 1, -1) }, new[] { 1.0, 2.0 }, density: 1.0, majoritySignMethod: "total");
        Equal(merged, -4, -2, 2.5f, -3);
    }

    [Fact]
    public void TiesByFrequencyElectsTheCommonestSign()
    {
        // Sign sums [0, 0, 2, -2] elect [+, +, +, -] (a tie elects +); t1 agrees at 0, 2, 3, t2 at 1, 2, 3.
        // Kept sums [1, 2, 5, -6] over counts [1, 1, 2, 2].
        var merged = TaskMerging.Merge("ties", new[] { T(1, -2, 3, -4), T(-2, 1, 1, -1) }, new[] { 1.0, 2.0 }, density: 1.0, majoritySignMethod: "frequency");
        Equal(merged, 1, 2, 2.5f, -3);
    }

    [Fact]
    public void TiesPrunesBeforeElecting()
    {
        // Top 2 of each: [0, 0, 3, -4] and [-2, 0, 1.5, 0]. Sums [-2, 0, 4.5, -4] elect [-, +, +, -]. Zeros never carry a sign,
        // so position 1 keeps nothing (0 / max(0, 1)).
        var merged = TaskMerging.Merge("ties", new[] { T(1, -2, 3, -4), T(-2, 1, 1.5f, -0.5f) }, new[] { 1.0, 1.0 }, density: 0.5);
        Equal(merged, -2, 0, 2.25f, -4);
    }

    [Fact]
    public void MajoritySignMaskAndDisjointMerge()
    {
        var stacked = stack(new[] { T(1, -1, 0), T(-3, -2, 2) }, 0);
        var mask = TaskMerging.MajoritySignMask(stacked, "total");                                // sums [-2, -3, 2] -> [-, -, +]
        Assert.Equal(new[] { false, true, false, true, true, true }, mask.flatten().data<bool>().ToArray());
        Equal(TaskMerging.DisjointMerge(stacked, mask), -3, -1.5f, 2);
    }

    [Fact]
    public void RandomPruningRescalesKeptValuesAndRepeatsWithASeed()
    {
        var allOnes = ones(100_000);
        var pruned = TaskMerging.Prune(allOnes, 0.3, random: true, new Generator(1));
        var values = pruned.unique().Item1.data<float>().ToArray();
        Assert.Equal(2, values.Length);                                                       // 0 and the kept values divided by the density
        Assert.Equal(0f, values[0]);
        Assert.Equal(1 / 0.3f, values[1], 1e-5f);
        Assert.InRange(pruned.mean().item<float>(), 0.97, 1.03);                              // the expected value is kept
        Assert.InRange((pruned != 0).to(ScalarType.Float32).mean().item<float>(), 0.29, 0.31);
        Assert.True(pruned.equal(TaskMerging.Prune(allOnes, 0.3, random: true, new Generator(1))).all().item<bool>(), "same seed, same mask");
        Assert.False(pruned.equal(TaskMerging.Prune(allOnes, 0.3, random: true, new Generator(2))).all().item<bool>());
    }

    [Fact]
    public void DareLinearIsTaskArithmeticOfRescaledRandomPrunes()
    {
        var a = T(1, 2, 3, 4, 5, 6, 7, 8);
        var b = T(-1, 1, -1, 1, -1, 1, -1, 1);
        var merged = TaskMerging.Merge("dare_linear", new[] { a, b }, new[] { 0.5, 2.0 }, density: 0.5, generator: new Generator(4));
        var generator = new Generator(4);
        var prunedA = TaskMerging.Prune(a, 0.5, random: true, generator);
        var prunedB = TaskMerging.Prune(b, 0.5, random: true, generator);
        Assert.True(Fixtures.MaxAbsDiff(merged, 0.5 * prunedA + 2.0 * prunedB) < 1e-6);
        Assert.All(prunedA.data<float>().ToArray().Zip(a.data<float>().ToArray()), p => Assert.True(p.First == 0 || Math.Abs(p.First - 2 * p.Second) < 1e-6));
    }

    [Fact]
    public void UnknownMethodsAndMissingDensitiesAreErrors()
    {
        Assert.Contains("unknown merge method", Assert.Throws<ArgumentException>(() => TaskMerging.Merge("mean", new[] { T(1) }, new[] { 1.0 })).Message);
        Assert.Contains("needs a density", Assert.Throws<ArgumentException>(() => TaskMerging.Merge("ties", new[] { T(1) }, new[] { 1.0 })).Message);
        Assert.Contains("'total' or 'frequency'", Assert.Throws<ArgumentException>(() => TaskMerging.MajoritySignMask(T(1), "mean")).Message);
    }
}
