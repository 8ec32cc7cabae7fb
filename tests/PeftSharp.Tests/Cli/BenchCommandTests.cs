using System.Text.Json.Nodes;
using PeftSharp.Bench;
using PeftSharp.Bench.Harness;
using PeftSharp.Bench.Workloads;
using PeftSharp.Cli;
using PeftSharp.Models;
using PeftSharp.Tests.Training;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Cli;

/// <summary>
/// <c>peft bench</c>: its arguments and errors, and a real run of each suite the LoRA/adapter/training issues asked for,
/// on the toy shape (<c>--shape tiny</c>, one trial), checking that every expected figure is there and is a finite,
/// positive number. The runs set torch's thread count and seed its generator, so they share the global-state collection.
/// </summary>
[Collection(GlobalTorchStateCollection.Name)]
public class BenchCommandTests
{
    /// <summary>One trial on the toy shape, one thread, short repeats and small reference matmuls: a suite in seconds.</summary>
    static readonly string[] Quick =
        ["--shape", "tiny", "--trials", "1", "--threads", "1", "--min-seconds", "0.01", "--peak-size", "64", "--peak-size-bf16", "64"];

    /// <summary>Runs <c>peft bench SUITE --json</c> quickly and returns its rows (asserting success).</summary>
    static JsonArray Rows(string suite, params string[] extra)
    {
        var result = CliRunner.Run(["bench", suite, .. Quick, "--json", .. extra]);
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        var document = result.Json();
        Assert.Equal(suite, (string)document["suite"]!);
        Assert.StartsWith("peft bench " + suite, (string)document["command"]!);
        return document["rows"]!.AsArray();
    }

    static (string Workload, string Metric) Key(JsonNode row) => ((string)row["workload"]!, (string)row["metric"]!);

    static JsonNode Find(JsonArray rows, string workload, string metric) =>
        rows.Single(r => Key(r!) == (workload, metric))!;

    static double Median(JsonNode summary) => (double)summary["median"]!;

    /// <summary>Every value is finite and positive; every ratio too, with its reference named; goals agree with the ratio.</summary>
    static void AssertFinitePositive(JsonArray rows)
    {
        foreach (var row in rows.Select(r => r!))
        {
            // Memory figures are differences of the resident set: on the tiny shape a few MB against the noise of the
            // runtime freeing memory meanwhile, so they can come out at or just below zero; they must be finite.
            bool memory = ((string?)row["metric"] ?? "").Contains("memory", StringComparison.Ordinal);
            Assert.True(double.IsFinite(Median(row["value"]!)) && (memory || Median(row["value"]!) > 0), row.ToJsonString());
            if (row["ratio"] is { } ratio)
            {
                Assert.True(double.IsFinite(Median(ratio)) && (memory || Median(ratio) > 0), row.ToJsonString());
                Assert.Equal(1, (int)ratio["n"]!);
                Assert.False(string.IsNullOrEmpty((string?)row["ratio_to"]), row.ToJsonString());
            }
            if (row["goal"] is { } goal)
            {
                double target = (double)goal["target"]!, median = Median(row["ratio"]!);
                bool met = (string)goal["comparison"]! == ">=" ? median >= target : median <= target;
                Assert.Equal(met, (bool)row["goal_met"]!);
            }
        }
    }

    [Fact]
    public void LoraSuiteReportsLatencyMixedBatchAndTrainStepAgainstTheirGoals()
    {
        var rows = Rows("lora");
        var expected = new List<(string, string)>();
        foreach (int batch in new[] { 1, 32 })
            foreach (string variant in new[] { "base model", "base copy (noise control)", "LoRA r8 q,v unmerged", "LoRA r8 q,v merged" })
                expected.Add(($"tiny fp32 {batch}x128 {variant}", "latency"));
        expected.Add(("tiny fp32 32x128 one LoRA adapter for every row", "throughput"));
        expected.Add(("tiny fp32 32x128 mixed batch of 16 LoRA adapters", "throughput"));
        expected.Add(("tiny fp32 8x128 train step full fine-tuning", "time per step"));
        expected.Add(("tiny fp32 8x128 train step LoRA r8 q,v", "time per step"));
        Assert.Equal(expected, rows.Select(r => Key(r!)).ToList());
        AssertFinitePositive(rows);

        var mixed = Find(rows, "tiny fp32 32x128 mixed batch of 16 LoRA adapters", "throughput");
        Assert.Equal(">=", (string)mixed["goal"]!["comparison"]!);
        Assert.Equal(0.85, (double)mixed["goal"]!["target"]!);
        var train = Find(rows, "tiny fp32 8x128 train step LoRA r8 q,v", "time per step");
        Assert.Equal("<=", (string)train["goal"]!["comparison"]!);
        Assert.Equal(0.70, (double)train["goal"]!["target"]!);
        // A throughput ratio: the mean time of the two single-adapter runs around the mixed one over the mixed run's time,
        // so above 1 means the mixed batch is faster. Recomputed from the samples (tokens/s) the JSON keeps.
        var referenceSamples = Find(rows, "tiny fp32 32x128 one LoRA adapter for every row", "throughput")["value"]!["samples"]!.AsArray()
            .Select(v => (double)v!).ToArray();
        Assert.Equal(2, referenceSamples.Length);
        double mixedThroughput = Median(mixed["value"]!);
        Assert.Equal(mixedThroughput * (1 / referenceSamples[0] + 1 / referenceSamples[1]) / 2, Median(mixed["ratio"]!), 9);
    }

    [Fact]
    public void AdaptersSuiteHasBottleneckRowsNextToMergedLora()
    {
        var rows = Rows("adapters");
        var variants = new[]
        {
            "base model", "base copy (noise control)", "LoRA r8 q,v unmerged", "LoRA r8 q,v merged",
            "Bottleneck Houlsby (attention + FFN, reduction 16)", "Bottleneck Pfeiffer (FFN, reduction 16)",
            "IA3 (key, value, output.dense)", "LN tuning (all LayerNorms)",
        };
        var expected = new[] { 1, 32 }.SelectMany(b => variants.Select(v => ($"tiny fp32 {b}x128 {v}", "latency"))).ToList();
        Assert.Equal(expected, rows.Select(r => Key(r!)).ToList());
        AssertFinitePositive(rows);
        Assert.All(rows.Where(r => !((string)r!["workload"]!).EndsWith("base model")), r => Assert.NotNull(r!["ratio"]));
    }

    [Fact]
    public void TrainSuiteReportsModelFlopsOverThePeaksAndWhatCheckpointingCosts()
    {
        var rows = Rows("train");
        const string fp32 = "tiny fp32 2x128 LoRA training throughput", bf16 = "tiny bf16 2x128 LoRA training throughput";
        const string plain = "tiny fp32 8x128 LoRA step without checkpointing", checkpointed = "tiny fp32 8x128 LoRA step with activation checkpointing";
        const string held = "memory held between forward and backward", peak = "peak memory rise during a step";
        var expected = new List<(string, string)>
        {
            (fp32, "time per step"), (fp32, "throughput"), (fp32, "model FLOPs vs fp32 peak"),
            (bf16, "time per step"), (bf16, "throughput"), (bf16, "model FLOPs vs bf16 peak"),
            ("matmul peak fp32 (reference)", "throughput"), ("matmul peak bf16 (reference)", "throughput"),
            (plain, "time per step"), (checkpointed, "time per step"),
            (plain, held), (plain, peak), (checkpointed, held), (checkpointed, peak),
        };
        Assert.Equal(expected, rows.Select(r => Key(r!)).ToList());
        AssertFinitePositive(rows);

        // Model FLOPs are 4 x linear weights x tokens per step time (2 x 128 tokens; one trial, so medians are the samples).
        long linearWeights;
        using (var model = AutoModel.Create(ModelShape.Tiny.Config(), ModelShape.Tiny.Task, ScalarType.Float32, seed: 1)) linearWeights = Flops.LinearParameters(model);
        foreach (var (name, dtype) in new[] { (fp32, "fp32"), (bf16, "bf16") })
        {
            double seconds = Median(Find(rows, name, "time per step")["value"]!);
            var flops = Find(rows, name, $"model FLOPs vs {dtype} peak");
            // The JSON rounds both figures to 7 decimals, so they agree to a relative 1e-4, not to a fixed number of places.
            double expectedGflops = 4.0 * linearWeights * 2 * 128 / seconds / 1e9, reported = Median(flops["value"]!);
            Assert.True(Math.Abs(reported / expectedGflops - 1) < 1e-4, $"{name}: {reported} GFLOP/s reported, {expectedGflops} from the step time");
            Assert.Equal(0.50, (double)flops["goal"]!["target"]!);
        }
        // One trial: reference, fp32 step, reference, bf16 step, reference; each reference counted once.
        Assert.Equal(3, (int)Find(rows, "matmul peak fp32 (reference)", "throughput")["value"]!["n"]!);
        // Checkpointing keeps one input per block instead of every activation: less memory held after the forward pass.
        // (Measured 0.5-0.7 on the tiny shape; the resident set is noisy by a few MB, hence only "less".)
        Assert.True(Median(Find(rows, checkpointed, held)["ratio"]!) < 0.99, "checkpointing should hold less memory after the forward pass");
    }

    [Fact]
    public void TextOutputPrintsTheTableWithGoalsAndWritesTheJsonFile()
    {
        using var scratch = Fixtures.TempDir();
        string path = scratch.File("lora.json");
        int threads = get_num_threads();
        var result = CliRunner.Run(["bench", "lora", .. Quick, "--filter", "mixed", "--out", path]);
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Contains("torch threads 1", result.Stdout);
        Assert.Contains("tiny fp32 32x128 mixed batch of 16 LoRA adapters", result.Stdout);
        Assert.Contains(">= 0.85: ", result.Stdout);
        Assert.DoesNotContain("train step", result.Stdout);           // --filter left it out
        Assert.Contains("[", result.Stderr);                          // progress goes to stderr
        var rows = JsonNode.Parse(File.ReadAllText(path))!["rows"]!.AsArray();
        Assert.Equal(2, rows.Count);
        Assert.Equal(threads, get_num_threads());                     // the run's thread count does not leak
    }

    [Theory]
    [InlineData(new[] { "bench", "nosuch" }, "unknown suite 'nosuch'", "lora, train")]
    [InlineData(new[] { "bench", "lora", "--trials", "x" }, "--trials must be a positive integer, got 'x'")]
    [InlineData(new[] { "bench", "lora", "--trials", "0" }, "--trials must be a positive integer, got '0'")]
    [InlineData(new[] { "bench", "train", "--budget", "-5" }, "--budget must be a positive number")]
    [InlineData(new[] { "bench", "lora", "--shape", "huge" }, "--shape must be one of bert-base, bert-mini, tiny")]
    [InlineData(new[] { "bench", "all", "--out", "x.json" }, "--out names one file")]
    [InlineData(new[] { "bench" }, "suite")]
    [InlineData(new[] { "bench", "lora", "--trials" }, "--trials")]
    [InlineData(new[] { "bench", "lora", "--no-such-option" }, "--no-such-option")]
    public void BadArgumentsExitWithOneLine(string[] args, params string[] expected) =>
        CliRunner.AssertBadInput(CliRunner.Run(args), expected);

    [Fact]
    public void HelpListsEverySuiteAndOption()
    {
        var result = CliRunner.Run("bench", "--help");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("peft bench", result.Stdout);
        foreach (var suite in SuiteRegistry.All) Assert.Contains(suite.Name, result.Stdout);
        foreach (var spec in BenchOptions.Specs) Assert.Contains(spec.Name, result.Stdout);
        Assert.Contains("bench", CliRunner.Run("--help").Stdout);
    }

    [Fact]
    public void EveryListedOptionParses()
    {
        using var scratch = Fixtures.TempDir();
        foreach (var spec in BenchOptions.Specs)
        {
            string[] value = spec.ValueName switch
            {
                null => [],
                "PATH" or "DIR" => [scratch.File("x")],
                "A,B" => ["mixed,train step"],
                "NAME" => ["bert-mini"],
                _ => ["2"],
            };
            var options = BenchOptions.Parse(["lora", spec.Name, .. value]);
            Assert.Equal("lora", options.Suite);
        }
        var parsed = BenchOptions.Parse(["train", "--trials", "2", "--threads", "1", "--shape", "TINY", "--json", "--budget", "30", "--filter", "bf16"]);
        Assert.Equal((2, 1, "tiny", true, 30.0, "bf16"), (parsed.Trials, parsed.Threads, parsed.Shape, parsed.Json, parsed.BudgetSeconds, parsed.Filter));
        var defaults = BenchOptions.Parse(["train"]);
        Assert.Equal(("bert-base", 3, false), (defaults.Shape, defaults.Trials, defaults.Json));
    }

    [Fact]
    public void TheBenchExecutableKeepsItsOwnContract()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Assert.Equal(2, BenchProgram.Run(["nosuch"], stdout, stderr));
        Assert.Contains("error: unknown suite 'nosuch'", stderr.ToString());
        Assert.Contains("usage: dotnet run -c Release --project bench/PeftSharp.Bench -- <suite>", stderr.ToString());
        Assert.Equal("", stdout.ToString());

        using var help = new StringWriter();
        Assert.Equal(0, BenchProgram.Run(["--help"], help, stderr));
        foreach (string suite in new[] { "adapters", "lora", "train", "all" }) Assert.Contains($"  {suite}", help.ToString());
    }

    [Fact]
    public void GoalsCompareTheRatioMedian()
    {
        Assert.True(Goal.AtLeast(0.85).IsMetBy(0.85));
        Assert.False(Goal.AtLeast(0.85).IsMetBy(0.849));
        Assert.True(Goal.AtMost(0.70).IsMetBy(0.5));
        Assert.False(Goal.AtMost(0.70).IsMetBy(0.71));
        var row = new ResultRow
        {
            Suite = "s", Workload = "w", Metric = "m", Unit = "u", Value = Summary.Of([1.0]), Ratio = Summary.Of([0.9, 0.6, 0.8]), Goal = Goal.AtMost(0.70),
        };
        Assert.False(row.GoalMet);                                    // median 0.8, not the best trial
        Assert.Contains("<= 0.70: MISSED", Report.Table([row]));
        Assert.Null((row with { Goal = null }).GoalMet);
    }
}
