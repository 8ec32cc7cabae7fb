using PeftSharp.Experiments;

namespace PeftSharp.Tests.Experiments;

public class SeedSpreadTests
{
    static MethodOutcome Outcome(string method, double accuracy, string? error = null) => new()
    {
        Method = method,
        Summary = method,
        LearningRate = 1e-3,
        TrainExamples = 100,
        TrainableParameters = 10,
        Metrics = error is null ? new Dictionary<string, double> { ["accuracy"] = accuracy, ["macro_f1"] = accuracy / 2 } : new Dictionary<string, double>(),
        Error = error,
    };

    static ComparisonResult Run(long seed, string[] methods, params MethodOutcome[] outcomes) => new()
    {
        Options = new ComparisonOptions { Seed = seed, Methods = methods },
        DataName = "spam",
        Task = "seq-cls",
        TrainExamples = 100,
        InputLength = 64,
        ScoredExamples = 50,
        ScoredSplit = "test",
        PrimaryMetric = "accuracy",
        HigherIsBetter = true,
        ModelParameters = 1000,
        ModelFileBytes = 4000,
        Threads = 1,
        Methods = outcomes,
        Duration = TimeSpan.FromMinutes(1),
    };

    [Fact]
    public void MeanSampleDeviationAndRangePerMethodAndMetric()
    {
        string[] methods = ["lora", "bitfit"];
        var runs = new[]
        {
            Run(1, methods, Outcome("lora", 0.80), Outcome("bitfit", 0.70)),
            Run(2, methods, Outcome("lora", 0.90), Outcome("bitfit", 0.70)),
            Run(3, methods, Outcome("lora", 0.85), Outcome("bitfit", 0.0, error: "diverged")),
        };
        var spread = SeedSpread.Of(runs, ["accuracy", "macro_f1"]);

        Assert.Equal([("lora", "accuracy"), ("lora", "macro_f1"), ("bitfit", "accuracy"), ("bitfit", "macro_f1")], spread.Select(s => (s.Method, s.Metric)));
        var lora = spread[0];
        Assert.Equal([1L, 2, 3], lora.Seeds);
        Assert.Equal(0.85, lora.Mean, 12);
        Assert.Equal(0.05, lora.StandardDeviation, 12);          // sqrt((0.05² + 0.05² + 0) / 2)
        Assert.Equal((0.80, 0.90), (lora.Min, lora.Max));
        Assert.Equal(0.425, spread[1].Mean, 12);
        var bitfit = spread[2];
        Assert.Equal([1L, 2], bitfit.Seeds);                       // the failed run is left out, not counted as 0
        Assert.Equal((0.70, 0.0), (bitfit.Mean, bitfit.StandardDeviation));
    }

    [Fact]
    public void ASingleRunHasNoSpreadAndAMethodThatNeverFinishedHasNoEntry()
    {
        string[] methods = ["lora", "prefix"];
        var spread = SeedSpread.Of([Run(7, methods, Outcome("lora", 0.6), Outcome("prefix", 0, error: "no attention"))], ["accuracy"]);
        var only = Assert.Single(spread);
        Assert.Equal(("lora", 0.6, 0.0), (only.Method, only.Mean, only.StandardDeviation));
    }

    [Fact]
    public void RunsOfDifferentMethodsAreRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => SeedSpread.Of(
            [Run(1, ["lora"], Outcome("lora", 0.8)), Run(2, ["bitfit"], Outcome("bitfit", 0.7))], ["accuracy"]));
        Assert.Contains("seed 2", error.Message);
        Assert.Throws<ArgumentException>(() => SeedSpread.Of([], ["accuracy"]));
    }
}
