using PeftSharp.Data;
using PeftSharp.Models;
using PeftSharp.Tasks;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tasks;

public class MaskedLanguageModelingTaskTests
{
    static readonly LanguageModelingExample[] Texts = Enumerable.Range(0, 300)
        .Select(i => new LanguageModelingExample(TaskFixtures.Corpus[i % TaskFixtures.Corpus.Length], null, new SourceLocation("mlm.txt", i + 1)))
        .ToArray();

    static long[] Ids(IEnumerable<PeftSharp.Training.TrainingBatch> batches) =>
        batches.SelectMany(b => { using (b) return b.Inputs.InputIds!.data<long>().ToArray(); }).ToArray();

    [Fact]
    public void MasksAreReproducibleFromSeedEpochAndBatch()
    {
        var task = new MaskedLanguageModelingTask(TaskFixtures.WordPiece(), new BatchingOptions { BatchSize = 16 });
        var source = task.Batches(Texts);
        Assert.Equal(Ids(source.Epoch(1, 42)), Ids(source.Epoch(1, 42)));
        Assert.NotEqual(Ids(source.Epoch(1, 42)), Ids(source.Epoch(2, 42)));
        // A resumed run that skips to batch 5 sees what an uninterrupted run saw there.
        Assert.Equal(Ids(source.Epoch(3, 9).Skip(5).Take(1)), Ids(source.Epoch(3, 9).Take(6).Skip(5)));
    }

    [Fact]
    public void FifteenPercentAreChosenAndEightyPercentOfThoseMasked()
    {
        var tokenizer = TaskFixtures.WordPiece();
        var task = new MaskedLanguageModelingTask(tokenizer, new BatchingOptions { BatchSize = 32 });
        long candidates = 0, chosen = 0, masked = 0, unchanged = 0;
        foreach (var batch in task.Batches(Texts).Epoch(0, 1))
        {
            using (batch)
            {
                var inputs = batch.Inputs.InputIds!.data<long>().ToArray();
                var mask = batch.Inputs.AttentionMask!.data<long>().ToArray();
                var labels = batch.Labels.data<long>().ToArray();
                for (int i = 0; i < labels.Length; i++)
                {
                    bool special = tokenizer.SpecialTokenIds.Contains((int)(labels[i] == -100 ? inputs[i] : labels[i]));
                    if (mask[i] == 0 || special)
                    {
                        Assert.Equal(-100, labels[i]); // padding, [CLS] and [SEP] are never chosen
                        continue;
                    }
                    candidates++;
                    if (labels[i] == -100) continue;
                    chosen++;
                    if (inputs[i] == tokenizer.MaskTokenId) masked++;
                    else if (inputs[i] == labels[i]) unchanged++;
                }
            }
        }
        Assert.InRange((double)chosen / candidates, 0.13, 0.17);
        Assert.InRange((double)masked / chosen, 0.75, 0.85);
        Assert.InRange((double)unchanged / chosen, 0.06, 0.16); // 10% kept, plus random draws that hit the same token
    }

    [Fact]
    public void EvaluationUsesTheSameMasksEveryTime()
    {
        var tokenizer = TaskFixtures.WordPiece();
        var task = new MaskedLanguageModelingTask(tokenizer, new BatchingOptions { BatchSize = 64 });
        using var model = TaskFixtures.Model("bert", ModelTask.MaskedLM, tokenizer);
        var evaluator = task.Evaluator(Texts.Take(64).ToList());
        var first = evaluator.Evaluate(model);
        Assert.Equal(first["loss"], evaluator.Evaluate(model)["loss"]);
        Assert.Equal(Math.Exp(first["loss"]), first["perplexity"], 6);
        // An untrained model is roughly uniform over the vocabulary.
        Assert.InRange(first["perplexity"], tokenizer.VocabSizeWithAddedTokens / 3.0, tokenizer.VocabSizeWithAddedTokens * 3.0);
    }

    [Fact]
    public void PromptCompletionPairsAndTokenizersWithoutMaskAreRefused()
    {
        var task = new MaskedLanguageModelingTask(TaskFixtures.WordPiece());
        var pair = new LanguageModelingExample("a completion", "a prompt", new SourceLocation("lm.jsonl", 3));
        Assert.Equal(3, Assert.Throws<DataFormatException>(() => task.Batches([pair])).Line);
        Assert.Throws<ArgumentException>(() => new MaskedLanguageModelingTask(TaskFixtures.ByteLevel()));
    }
}
