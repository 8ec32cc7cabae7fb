using System.Text.Json.Nodes;
using PeftSharp.Data;
using PeftSharp.Experiments;
using PeftSharp.Models;
using PeftSharp.Tasks;
using PeftSharp.Tokenization;

namespace PeftSharp.Tests.Models;

/// <summary>
/// The pretrained encoder committed under models/ (the default of <c>peft compare</c>): it loads strictly, its record
/// matches its config, and it has really learnt English: its masked-LM loss on prose it never saw (this repository's
/// documentation) is far below that of the same architecture with its initial weights.
/// </summary>
public class BundledEncoderTests
{
    static string Directory => Path.Combine(Fixtures.RepoRoot, ComparisonOptions.DefaultModel);

    [Fact]
    public void LoadsStrictlyAndMatchesItsPretrainingRecord()
    {
        var loaded = AutoModel.Load(Directory, new ModelLoadOptions { Task = ModelTask.MaskedLM });
        Assert.Equal("bert", loaded.Model.Config.ModelType);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(Directory, Pretraining.RecordFile)))!;
        Assert.Equal((long)record["model"]!["parameters"]!, ParameterCounts.Unique(loaded.Model));
        Assert.Equal((int)record["model"]!["hidden_size"]!, loaded.Model.Config.HiddenSize);
        Assert.Equal((int)record["tokenizer"]!["vocab_size"]!, PretrainedTokenizer.FromDirectory(Directory).VocabSize);
        Assert.StartsWith("peft pretrain --out models/peftsharp-bert-mini", (string)record["command"]!);
    }

    [Fact]
    public void ItsMaskedLanguageModelLossIsFarBelowAnUntrainedCopy()
    {
        var tokenizer = PretrainedTokenizer.FromDirectory(Directory);
        string docs = Path.Combine(Fixtures.RepoRoot, "docs");
        var paragraphs = new[] { "ARCHITECTURE.md", "training.md", "data.md" }
            .SelectMany(f => File.ReadAllText(Path.Combine(docs, f)).Split("\n\n"))
            .Where(p => p.Length > 200 && !p.Contains("```") && !p.TrimStart().StartsWith('|'))
            .Take(48)
            .Select((text, i) => new LanguageModelingExample(text, null, new SourceLocation("docs", i + 1)))
            .ToList();
        Assert.True(paragraphs.Count >= 24, $"only {paragraphs.Count} prose paragraphs found");
        var evaluator = new MaskedLanguageModelingTask(tokenizer, new BatchingOptions { BatchSize = 8, MaxLength = 128 }).Evaluator(paragraphs);

        var pretrained = AutoModel.Load(Directory, new ModelLoadOptions { Task = ModelTask.MaskedLM }).Model;
        var untrained = AutoModel.Create(pretrained.Config, ModelTask.MaskedLM, seed: 42);
        double trainedLoss = evaluator.Evaluate(pretrained)["loss"], untrainedLoss = evaluator.Evaluate(untrained)["loss"];
        Assert.True(untrainedLoss > Math.Log(tokenizer.VocabSize) - 0.5, $"an untrained model should be near uniform: {untrainedLoss}");
        Assert.True(trainedLoss < untrainedLoss - 2, $"pretrained {trainedLoss} against untrained {untrainedLoss}");
    }
}
