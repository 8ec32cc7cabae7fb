using System.Text.Json;
using System.Text.Json.Nodes;
using PeftSharp.Cli;
using PeftSharp.Experiments;
using PeftSharp.Models;
using PeftSharp.Tasks;
using PeftSharp.Tokenization;
using PeftSharp.Training;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Adapters;

namespace PeftSharp.Tests.Cli;

/// <summary>
/// Two generated "languages" with disjoint content words (political prose and fairy-tale prose, sharing only function
/// words), a tiny encoder made by <c>peft pretrain</c> on both, and a classification task of the political domain:
/// a sentence is "economy" when it names a fiscal matter, "defence" when it names a military one. Built once for the class.
/// The encoder gets 150 steps (about 5 s): after only 12 or 40, it predicted "the" everywhere, and neither bottleneck
/// adapters nor LoRA lowered its masked-LM loss in 100 steps (full fine-tuning did), which would leave nothing to test.
/// </summary>
public sealed class TwoDomainEncoder : IDisposable
{
    static readonly string[] PoliticsNouns = ["senate", "congress", "nation", "president", "people", "union", "government", "citizens"];
    static readonly string[] PoliticsVerbs = ["passed", "debated", "approved", "reviewed", "rejected"];
    static readonly string[] Economy = ["tax", "budget", "tariff", "revenue", "trade", "debt"];
    static readonly string[] Defence = ["army", "navy", "treaty", "war", "militia", "fleet"];
    static readonly string[] StoryNouns = ["dragon", "castle", "knight", "princess", "forest", "wizard", "sword", "giant"];
    static readonly string[] StoryVerbs = ["found", "crossed", "guarded", "chased", "enchanted"];

    readonly TempDirectory _scratch = Fixtures.TempDir();

    public TwoDomainEncoder()
    {
        var random = new Random(11);
        File.WriteAllLines(Politics, Enumerable.Range(0, 240).Select(_ => PoliticsSentence(random, random.Next(2) == 0)));
        File.WriteAllLines(Stories, Enumerable.Range(0, 240).Select(_ => StorySentence(random)));
        File.WriteAllLines(Task, Enumerable.Range(0, 200).Select(_ =>
        {
            bool economy = random.Next(2) == 0;
            return JsonSerializer.Serialize(new { text = PoliticsSentence(random, economy), label = economy ? "economy" : "defence" });
        }));
        CliRunner.Json("pretrain", "--out", Model, "--corpora", $"{Politics},{Stories}", "--vocab-size", "600", "--hidden", "32", "--layers", "2",
            "--heads", "2", "--steps", "150", "--seq-len", "32", "--batch-size", "8", "--held-out", "8", "--eval-steps", "50", "--json");
    }

    public string Root => _scratch.Path;
    public string Politics => _scratch.File("politics.txt");
    public string Stories => _scratch.File("stories.txt");
    public string Task => _scratch.File("politics-topic.jsonl");
    public string Model => _scratch.File("encoder");

    /// <summary>The flags of the small MAD-X run every test uses (a few seconds).</summary>
    public string[] MadX(string report, bool json) =>
    [
        "madx", "--model", Model, "--languages", $"{Politics},{Stories}", "--task", Task, "--lang-steps", "60", "--task-steps", "30",
        "--lang-lr", "1e-2", "--task-lr", "1e-2", "--batch-size", "8", "--max-length", "32", "--threads", "1", "--out", report, .. (json ? ["--json"] : Array.Empty<string>()),
    ];

    static string PoliticsSentence(Random random, bool economy) =>
        $"the {Pick(random, PoliticsNouns)} {Pick(random, PoliticsVerbs)} the {Pick(random, economy ? Economy : Defence)} and the {Pick(random, PoliticsNouns)} {Pick(random, PoliticsVerbs)} it";

    static string StorySentence(Random random) =>
        $"the {Pick(random, StoryNouns)} {Pick(random, StoryVerbs)} the {Pick(random, StoryNouns)} and the {Pick(random, StoryNouns)} {Pick(random, StoryVerbs)} it";

    static string Pick(Random random, string[] words) => words[random.Next(words.Length)];

    public void Dispose() => _scratch.Dispose();
}

/// <summary>
/// <c>peft madx</c> end to end on a tiny encoder: language adapters, the frozen check, the swap, the report, bad input.
/// Alone in the global-state collection: the run seeds libtorch's default generator and sets its thread count, and
/// the repeatability test compares numbers exactly.
/// </summary>
[Collection(PeftSharp.Tests.Training.GlobalTorchStateCollection.Name)]
public class MadXCommandTests : IClassFixture<TwoDomainEncoder>
{
    const string PoliticsData = "politics.txt", StoriesData = "stories.txt";
    const string PoliticsAdapter = "politics", StoriesAdapter = "stories", TaskAdapter = "politics-topic";

    readonly TwoDomainEncoder _fixture;
    public MadXCommandTests(TwoDomainEncoder fixture) => _fixture = fixture;

    [Fact]
    public void LanguageAdaptersLearnTheirDomainTheTaskAdapterLeavesThemUntouchedAndTheSwapChangesTheScores()
    {
        using var scratch = Fixtures.TempDir();
        string report = scratch.File("report");
        var result = CliRunner.Json(_fixture.MadX(report, json: true));

        // Language adapters: each one's masked-LM loss on its own held-out text falls below the bare model's.
        var languages = result["languages"]!.AsArray();
        Assert.Equal(new[] { PoliticsAdapter, StoriesAdapter }, languages.Select(l => (string)l!["adapter"]!));
        Assert.All(languages, l => Assert.Equal("validation", (string)l!["held_out_split"]!));   // files without a test file: the held-out tenth
        var rows = result["language_modeling"]!.AsArray();
        Assert.Equal(new string?[] { null, PoliticsAdapter, StoriesAdapter }, rows.Select(r => (string?)r!["adapter"]));
        double Loss(int row, string data) => (double)rows[row]!["held_out"]![data]!["loss"]!;
        Assert.True(Loss(1, PoliticsData) < Loss(0, PoliticsData), $"politics adapter on politics text: {Loss(1, PoliticsData)} vs bare {Loss(0, PoliticsData)}");
        Assert.True(Loss(2, StoriesData) < Loss(0, StoriesData), $"stories adapter on stories text: {Loss(2, StoriesData)} vs bare {Loss(0, StoriesData)}");
        // And each is specific to its domain: on politics text the politics adapter beats the stories adapter, and vice versa.
        Assert.True(Loss(1, PoliticsData) < Loss(2, PoliticsData) && Loss(2, StoriesData) < Loss(1, StoriesData), rows.ToJsonString());

        // The task adapter trained over the politics adapter; nothing outside it moved.
        var task = result["task"]!;
        Assert.Equal(TaskAdapter, (string)task["adapter"]!);
        Assert.Equal(PoliticsAdapter, (string)task["trained_over"]!);
        Assert.True((int)task["frozen_tensors_checked"]! > 0);
        Assert.Empty(task["frozen_tensors_changed"]!.AsArray());

        // The three scores: over its own language adapter, the other domain's, and none; each swap changes the computation.
        var scores = result["task_scores"]!.AsArray();
        Assert.Equal(new string?[] { PoliticsAdapter, StoriesAdapter, null }, scores.Select(s => (string?)s!["language_adapter"]));
        Assert.All(scores, s => Assert.InRange((double)s!["metrics"]!["accuracy"]!, 0, 1));
        double TaskLoss(int i) => (double)scores[i]!["metrics"]!["loss"]!;
        Assert.True(Math.Abs(TaskLoss(2) - TaskLoss(0)) > 1e-5, $"no language adapter gave the own-language loss {TaskLoss(0)}");
        Assert.True(Math.Abs(TaskLoss(1) - TaskLoss(0)) > 1e-5, $"the other language adapter gave the own-language loss {TaskLoss(0)}");

        foreach (string file in new[] { "results.json", "summary.md", "loss_curves.png" })
            Assert.True(File.Exists(Path.Combine(report, file)), $"{file} missing");
        foreach (string adapter in new[] { PoliticsAdapter, StoriesAdapter, TaskAdapter })
            Assert.True(File.Exists(Path.Combine(report, "adapters", adapter, "adapter_model.safetensors")), $"adapter {adapter} missing");
        var languageConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(report, "adapters", PoliticsAdapter, "adapter_config.json")))!;
        Assert.Equal("nice", (string)languageConfig["inv_adapter"]!);
        Assert.Null(JsonNode.Parse(File.ReadAllText(Path.Combine(report, "adapters", TaskAdapter, "adapter_config.json")))!["inv_adapter"]);
        Assert.False(Directory.Exists(Path.Combine(report, "training", TaskAdapter, "checkpoints")), "checkpoints are not part of the report");
        Assert.Equal(JsonNode.Parse(File.ReadAllText(Path.Combine(report, "results.json")))!["task_scores"]!.ToJsonString(), scores.ToJsonString());

        // Independently of the run's own check: the saved files, on freshly loaded base weights, reproduce the reported
        // numbers. The language adapters were saved before the task training, so a base or language-adapter tensor that
        // moved during it would show as a difference here.
        ReproduceLanguageModeling(report, rows);
        ReproduceTaskScores(report, scores);
    }

    [Fact]
    public void TheSameOptionsGiveTheSameNumbersAndTheTablesInTheTerminal()
    {
        using var scratch = Fixtures.TempDir();
        var first = CliRunner.Json(_fixture.MadX(scratch.File("first"), json: true));
        var second = CliRunner.Run(_fixture.MadX(scratch.File("second"), json: false));
        Assert.True(second.ExitCode == ExitCodes.Success, second.ToString());
        foreach (string text in new[] { "none (base model)", "under the task adapter", $"{PoliticsAdapter} (trained over)", $"{StoriesAdapter} (swapped in)", "bit-identical", "report:" })
            Assert.Contains(text, second.Stdout);
        var again = JsonNode.Parse(File.ReadAllText(scratch.File("second/results.json")))!;
        Assert.Equal(first["language_modeling"]!.ToJsonString(), again["language_modeling"]!.ToJsonString());
        Assert.Equal(first["task_scores"]!.ToJsonString(), again["task_scores"]!.ToJsonString());
        string summary = File.ReadAllText(scratch.File("second/summary.md"));
        Assert.Contains("| none (base model) |", summary);
        Assert.Contains($"| {StoriesAdapter} (swapped in) |", summary);
    }

    [Fact]
    public void BadInputFailsWithOneClearLineAndLeavesNoReport()
    {
        using var scratch = Fixtures.TempDir();
        string report = scratch.File("report");
        string[] With(params string[] changes)
        {
            var args = _fixture.MadX(report, json: false).ToList();
            for (int i = 0; i < changes.Length; i += 2) args[args.IndexOf(changes[i]) + 1] = changes[i + 1];
            return [.. args];
        }

        CliRunner.AssertBadInput(CliRunner.Run(With("--languages", $"{_fixture.Politics},no-such-corpus")), "no dataset named 'no-such-corpus'", "sotu-text");
        CliRunner.AssertBadInput(CliRunner.Run(With("--task", _fixture.Stories)), "stories.txt", "language-modelling", "not text classification");
        CliRunner.AssertBadInput(CliRunner.Run(With("--languages", _fixture.Task + "," + _fixture.Stories)), "politics-topic.jsonl", "text-classification", "not plain text");
        CliRunner.AssertBadInput(CliRunner.Run(With("--languages", _fixture.Politics)), "at least two language datasets");
        CliRunner.AssertBadInput(CliRunner.Run(With("--model", scratch.File("missing"))), "no such model directory");
        CliRunner.AssertBadInput(CliRunner.Run(With("--lang-steps", "0")), "LanguageSteps", "positive");
        Assert.False(Directory.Exists(report), "a failed run must not leave a report");
    }

    /// <summary>The masked-LM model with each saved language adapter scores its held-out rows as reported.</summary>
    void ReproduceLanguageModeling(string report, JsonArray rows)
    {
        var tokenizer = TokenizerLoader.ForModel(_fixture.Model);
        var batching = new BatchingOptions { BatchSize = 8, MaxLength = 32 };
        foreach (var (adapter, data) in new[] { (PoliticsAdapter, _fixture.Politics), (StoriesAdapter, _fixture.Stories) })
        {
            var language = ExperimentTask.Create(DataSource.Resolve(data), tokenizer, ModelTask.MaskedLM, batching);
            var model = FineTuning.LoadModel(_fixture.Model, language, TrainingPrecision.Float32, seed: 1234);
            using var peft = PeftModel.Load(model, Path.Combine(report, "adapters", adapter), adapter);
            double reported = (double)rows.Single(r => (string?)r!["adapter"] == adapter)!["held_out"]![Path.GetFileName(data)]!["loss"]!;
            double loss = language.Validation.Evaluate(peft)["loss"];
            Assert.True(Math.Abs(reported - loss) < 1e-5, $"{adapter}: reported loss {reported}, reproduced {loss}");
        }
    }

    /// <summary>A fresh classifier with the saved language adapters and task adapter scores as reported, over each language adapter and none.</summary>
    void ReproduceTaskScores(string report, JsonArray scores)
    {
        var tokenizer = TokenizerLoader.ForModel(_fixture.Model);
        var task = ExperimentTask.Create(DataSource.Resolve(_fixture.Task), tokenizer, ModelTask.SequenceClassification, new BatchingOptions { BatchSize = 8, MaxLength = 32 });
        // The base head is new and random (another seed than the run's): the task adapter's own copy of it must decide.
        var model = FineTuning.LoadModel(_fixture.Model, task, TrainingPrecision.Float32, seed: 1234);
        using var peft = PeftModel.Load(model, Path.Combine(report, "adapters", PoliticsAdapter), PoliticsAdapter);
        peft.LoadAdapter(Path.Combine(report, "adapters", StoriesAdapter), StoriesAdapter);
        peft.LoadAdapter(Path.Combine(report, "adapters", TaskAdapter), TaskAdapter);
        foreach (var score in scores)
        {
            string? language = (string?)score!["language_adapter"];
            peft.UseLanguageAdapter(TaskAdapter, language);
            var metrics = task.Validation.Evaluate(peft);
            double loss = (double)score["metrics"]!["loss"]!, accuracy = (double)score["metrics"]!["accuracy"]!;
            Assert.True(Math.Abs(loss - metrics["loss"]) < 1e-5, $"over {language ?? "none"}: reported loss {loss}, reproduced {metrics["loss"]}");
            Assert.True(Math.Abs(accuracy - metrics["accuracy"]) < 1e-6, $"over {language ?? "none"}: reported accuracy {accuracy}, reproduced {metrics["accuracy"]}");
        }
    }
}
