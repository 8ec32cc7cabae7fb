using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PeftSharp.Cli;

namespace PeftSharp.Tests.Cli;

/// <summary>
/// A tiny encoder made by <c>peft pretrain</c> from a generated corpus, and a separable sentiment-like task: a sentence is
/// "pos" when it holds one of the positive words and "neg" when it holds a negative one. Built once for the class.
/// </summary>
public sealed class TinyPretrainedEncoder : IDisposable
{
    static readonly string[] Positive = ["good", "great", "fine", "lovely", "happy", "nice"];
    static readonly string[] Negative = ["bad", "awful", "sad", "poor", "ugly", "grim"];
    static readonly string[] Nouns = ["cat", "dog", "house", "film", "book", "song", "day", "city", "meal", "trip"];

    readonly TempDirectory _scratch = Fixtures.TempDir();

    public TinyPretrainedEncoder()
    {
        var random = new Random(7);
        File.WriteAllLines(Corpus, Enumerable.Range(0, 300).Select(_ => Sentence(random, random.Next(2) == 0)));
        File.WriteAllLines(Train, Enumerable.Range(0, 240).Select(_ => Example(random)));
        File.WriteAllLines(Test, Enumerable.Range(0, 60).Select(_ => Example(random)));
        PretrainCommand = ["pretrain", "--out", Model, "--corpora", Corpus, "--vocab-size", "600", "--hidden", "32", "--layers", "2", "--heads", "2",
            "--steps", "12", "--seq-len", "32", "--batch-size", "8", "--held-out", "8", "--eval-steps", "6", "--json"];
        Pretrained = CliRunner.Json(PretrainCommand);
    }

    public string Root => _scratch.Path;
    public string Corpus => _scratch.File("corpus.txt");
    public string Train => _scratch.File("train.jsonl");
    public string Test => _scratch.File("test.jsonl");
    public string Model => _scratch.File("encoder");
    public string[] PretrainCommand { get; }
    public JsonNode Pretrained { get; }

    static string Sentence(Random random, bool positive) =>
        $"the {Pick(random, Nouns)} was {Pick(random, positive ? Positive : Negative)} and the {Pick(random, Nouns)} was {Pick(random, Nouns)}";

    static string Example(Random random)
    {
        bool positive = random.Next(2) == 0;
        return JsonSerializer.Serialize(new { text = Sentence(random, positive), label = positive ? "pos" : "neg" });
    }

    static string Pick(Random random, string[] words) => words[random.Next(words.Length)];

    public void Dispose() => _scratch.Dispose();
}

/// <summary><c>peft pretrain</c>, <c>peft train</c>, <c>peft eval</c> and <c>peft compare</c> end to end on a tiny model.</summary>
[Collection(PeftSharp.Tests.Training.GlobalTorchStateCollection.Name)] // pretraining must be repeatable: no test may change libtorch's threads or default generator meanwhile
public class TrainingCommandsTests : IClassFixture<TinyPretrainedEncoder>
{
    readonly TinyPretrainedEncoder _fixture;
    public TrainingCommandsTests(TinyPretrainedEncoder fixture) => _fixture = fixture;

    [Fact]
    public void PretrainWritesAModelDirectoryAndTheRecordThatRemakesItBitForBit()
    {
        string[] files = ["config.json", "model.safetensors", "pretrain.json", "tokenizer.json", "vocab.txt"];
        foreach (string file in files) Assert.True(File.Exists(Path.Combine(_fixture.Model, file)), $"{file} missing");
        Assert.False(Directory.Exists(Path.Combine(_fixture.Model, ".run")), "the run's checkpoints must not stay in the model directory");
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(_fixture.Model, "pretrain.json")))!;
        Assert.Equal(42, (long)record["seed"]!);
        Assert.Contains("--steps 12", (string)record["command"]!);

        using var again = Fixtures.TempDir();
        string[] command = [.. _fixture.PretrainCommand];
        command[Array.IndexOf(command, "--out") + 1] = again.File("encoder");
        CliRunner.Json(command);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_fixture.Model, "model.safetensors")), File.ReadAllBytes(again.File("encoder/model.safetensors")));
        Assert.Equal(File.ReadAllText(Path.Combine(_fixture.Model, "vocab.txt")), File.ReadAllText(again.File("encoder/vocab.txt")));
    }

    [Fact]
    public void TrainLearnsTheTaskAndEvalReproducesItsScore()
    {
        using var scratch = Fixtures.TempDir();
        string run = scratch.File("run");
        var trained = CliRunner.Json("train", "--model", _fixture.Model, "--data", _fixture.Train, "--test", _fixture.Test, "--method", "full",
            "--lr", "3e-3", "--max-steps", "60", "--batch-size", "16", "--out", run, "--json");
        double testAccuracy = (double)trained["test"]!["accuracy"]!;
        Assert.True(testAccuracy >= 0.8, $"a separable two-class task should be learnt: test accuracy {testAccuracy}");
        foreach (string file in new[] { "config.json", "metrics.jsonl", "results.json", "summary.md", "loss.png", "adapter/adapter_config.json", "adapter/adapter_model.safetensors" })
            Assert.True(File.Exists(Path.Combine(run, file)), $"{file} missing from the run directory");
        var losses = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!).Where(l => l["loss"] is not null)
            .Select(l => (double)l["loss"]!).ToList();
        Assert.True(losses.TakeLast(10).Average() < losses.Take(10).Average(), "the training loss should fall");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(run, "loss.png")).Take(4));

        var evaluated = CliRunner.Json("eval", "--run", run, "--split", "test", "--json");
        Assert.Equal(testAccuracy, (double)evaluated["splits"]!["test"]!["metrics"]!["accuracy"]!, 6);
        Assert.Equal(60, (int)evaluated["splits"]!["test"]!["examples"]!);
        var both = CliRunner.Json("eval", "--model", _fixture.Model, "--adapter", Path.Combine(run, "adapter"), "--data", _fixture.Train, "--test", _fixture.Test,
            "--split", "both", "--json");
        Assert.Equal(testAccuracy, (double)both["splits"]!["test"]!["metrics"]!["accuracy"]!, 6);
        Assert.NotNull(both["splits"]!["validation"]);
    }

    [Fact]
    public void CompareTrainsEveryNamedMethodWithTheSameBudgetAndReportsTheTable()
    {
        using var scratch = Fixtures.TempDir();
        string report = scratch.File("report");
        string[] methods = ["full", "lora", "houlsby", "prefix"];
        var result = CliRunner.Json("compare", "--model", _fixture.Model, "--data", _fixture.Train, "--methods", string.Join(",", methods), "--steps", "8",
            "--max-length", "64", "--low-data", "32,all", "--out", report, "--json");
        var rows = result["methods"]!.AsArray();
        Assert.Equal(methods, rows.Select(r => (string)r!["method"]!));
        long modelParameters = (long)result["model_parameters"]!;
        int positions = 32;   // --seq-len of the tiny encoder
        int virtualTokens = PeftSharp.Experiments.MethodRecipes.VirtualTokens;
        Assert.Equal(positions - virtualTokens, (int)result["budget"]!["input_length"]!);
        foreach (var row in rows)
        {
            string method = (string)row!["method"]!;
            Assert.Null(row["error"]);
            long trainable = (long)row["trainable_parameters"]!;
            Assert.InRange(trainable, 1, modelParameters);
            Assert.Equal(100.0 * trainable / modelParameters, (double)row["trainable_percent"]!, 4);
            Assert.Equal(method == "prefix" ? positions - virtualTokens : positions, (int)row["context_left"]!);
            Assert.True((long)row["adapter_bytes"]! > 0);
            Assert.InRange((double)row["metrics"]!["accuracy"]!, 0, 1);
            Assert.True((double)row["train_seconds"]! > 0);
            Assert.True(row["latency_unmerged"]!.AsArray().Count == 2 && (double)row["latency_unmerged"]![0]!["ratio"]! > 0);
            // LoRA and full fine-tuning fold into the weights; bottleneck adapters and prefixes cannot.
            Assert.Equal(method is "full" or "lora", row["latency_merged"] is not null);
            Assert.True(File.Exists(Path.Combine(report, "methods", method, "adapter", "adapter_model.safetensors")), $"{method}: adapter not kept");
        }
        Assert.True((long)rows[0]!["trainable_parameters"]! > (long)rows[1]!["trainable_parameters"]!, "full fine-tuning trains more than LoRA");
        var lowData = result["low_data"]!.AsArray();
        Assert.Equal(methods.Length * 2, lowData.Count);
        Assert.All(lowData.Where(l => (int)l!["train_examples"]! == 32), l => Assert.NotNull(l!["metrics"]!["accuracy"]));
        Assert.Contains(lowData, l => (int)l!["train_examples"]! == 216);   // "all": the training split after the held-out validation tenth
        string summary = File.ReadAllText(Path.Combine(report, "summary.md"));
        foreach (string method in methods) Assert.Contains($"| {method} ", summary);
        Assert.True(File.Exists(Path.Combine(report, "score_vs_trainable.png")));
    }

    [Fact]
    public void CompareOverSeedsReportsEachMethodsSpreadFromTheSeedsOwnRuns()
    {
        using var scratch = Fixtures.TempDir();
        string report = scratch.File("report");
        var result = CliRunner.Json("compare", "--model", _fixture.Model, "--data", _fixture.Train, "--methods", "lora,bitfit", "--steps", "4",
            "--max-length", "32", "--seeds", "5,9", "--out", report, "--json");
        Assert.Equal([5L, 9], result["seeds"]!.AsArray().Select(s => (long)s!));
        var runs = result["runs"]!.AsArray();
        Assert.Equal([5L, 9], runs.Select(r => (long)r!["budget"]!["seed"]!));
        // Latency does not depend on the seed: measured in the first run only.
        Assert.NotEmpty(runs[0]!["methods"]![0]!["latency_unmerged"]!.AsArray());
        Assert.Empty(runs[1]!["methods"]![0]!["latency_unmerged"]!.AsArray());
        foreach (string method in new[] { "lora", "bitfit" })
        {
            var accuracies = runs.Select(r => (double)r!["methods"]!.AsArray().Single(m => (string)m!["method"]! == method)!["metrics"]!["accuracy"]!).ToList();
            var spread = result["spread"]!.AsArray().Single(s => (string)s!["method"]! == method && (string)s["metric"]! == "accuracy")!;
            Assert.Equal(accuracies.Average(), (double)spread["mean"]!, 5);
            Assert.Equal(Math.Abs(accuracies[0] - accuracies[1]) / Math.Sqrt(2), (double)spread["sd"]!, 5);
            Assert.Equal(accuracies.Min(), (double)spread["min"]!, 5);
            Assert.True(File.Exists(Path.Combine(report, "seed-9", "methods", method, "adapter", "adapter_model.safetensors")), $"{method}: seed 9 adapter missing");
        }
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(report, "seed-5", "methods", "lora", "adapter", "adapter_model.safetensors")),
            File.ReadAllBytes(Path.Combine(report, "seed-9", "methods", "lora", "adapter", "adapter_model.safetensors")));   // each run had its own seed
        string table = File.ReadAllText(Path.Combine(report, "seeds.md"));
        Assert.Contains("| lora | ", table);
        Assert.Contains("accuracy mean ± sd", table);
        Assert.True(File.Exists(Path.Combine(report, "seed-5", "summary.md")));
        Assert.True(File.Exists(Path.Combine(report, "seeds.json")));

        CliRunner.AssertBadInput(CliRunner.Run("compare", "--model", _fixture.Model, "--data", _fixture.Train, "--seeds", "3", "--out", scratch.File("a")), "--seeds", "at least two");
        CliRunner.AssertBadInput(CliRunner.Run("compare", "--model", _fixture.Model, "--data", _fixture.Train, "--seeds", "1,x", "--out", scratch.File("b")), "--seeds", "'x'");
        CliRunner.AssertBadInput(CliRunner.Run("compare", "--model", _fixture.Model, "--data", _fixture.Train, "--seed", "4", "--seeds", "1,2", "--out", scratch.File("c")), "--seed", "--seeds");
    }

    [Fact]
    public void BadTrainingInputFailsWithOneClearMessage()
    {
        using var scratch = Fixtures.TempDir();
        CliRunner.AssertBadInput(CliRunner.Run("train", "--model", _fixture.Model, "--data", _fixture.Train, "--method", "nope", "--out", scratch.File("a")),
            "unknown method 'nope'", "lora");
        CliRunner.AssertBadInput(CliRunner.Run("train", "--model", scratch.File("missing"), "--data", _fixture.Train, "--method", "lora", "--out", scratch.File("b")),
            "no such model directory");

        CliRunner.AssertBadInput(CliRunner.Run("train", "--model", _fixture.Model, "--data", _fixture.Train, "--method", "lora", "--max-steps", "-3", "--out", scratch.File("e")),
            "--max-steps", "\"max_steps\"");
        CliRunner.AssertBadInput(CliRunner.Run("train", "--model", _fixture.Model, "--data", _fixture.Train, "--method", "lora", "--lr", "0", "--out", scratch.File("f")),
            "--lr", "\"learning_rate\"", "positive");

        string broken = scratch.File("broken.jsonl");
        File.WriteAllText(broken, "{\"text\": \"fine\", \"label\": \"pos\"}\n{\"text\": \"no label here\"}\n", Encoding.UTF8);
        CliRunner.AssertBadInput(CliRunner.Run("train", "--model", _fixture.Model, "--data", broken, "--method", "lora", "--out", scratch.File("c")),
            "broken.jsonl:2:", "'label'", "missing column");
        Assert.False(Directory.Exists(scratch.File("c")) && Directory.EnumerateFileSystemEntries(scratch.File("c")).Any(f => f.EndsWith("adapter")),
            "a failed run must not leave an adapter");

        CliRunner.AssertBadInput(CliRunner.Run("compare", "--model", _fixture.Model, "--data", _fixture.Train, "--methods", "lora,bogus", "--out", scratch.File("d")),
            "bogus");
        CliRunner.AssertBadInput(CliRunner.Run("eval", "--model", _fixture.Model, "--data", _fixture.Train, "--split", "sideways"), "--split", "sideways");
        CliRunner.AssertBadInput(CliRunner.Run("eval", "--model", _fixture.Model, "--data", _fixture.Train, "--split", "test"), "no test split");
    }
}
