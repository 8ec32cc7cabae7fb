using PeftSharp.Data;
using PeftSharp.Models;
using PeftSharp.Tasks;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tasks;

public class SequenceClassificationTaskTests
{
    static TextClassificationExample Example(string text, string label, string? pair = null, int line = 1) =>
        new(text, pair, label, new SourceLocation("data.jsonl", line));

    static readonly LabelSet Labels = LabelSet.Of(["cat", "dog"]);

    static readonly TextClassificationExample[] Animals =
    [
        Example("the cat sat on the mat", "cat"), Example("a cat and a mat", "cat"), Example("the cat saw a mat", "cat"), Example("on the mat sat a cat", "cat"),
        Example("the dog sat on the log", "dog"), Example("a dog and a log", "dog"), Example("the dog saw a log", "dog"), Example("on the log sat a dog", "dog"),
    ];

    [Fact]
    public void EncodesPairsWithTokenTypesAndTruncatesLongestFirst()
    {
        var tokenizer = TaskFixtures.WordPiece();
        var task = SequenceClassificationTask.Classification(tokenizer, Labels, new BatchingOptions { MaxLength = 8 });
        var encoded = task.Encode([Example("the cat sat on the mat the cat sat", "dog", "a dog")]).Single();
        Assert.Equal(8, encoded.Length);
        Assert.Equal(tokenizer.ClsTokenId, encoded.Ids[0]);
        Assert.Equal(tokenizer.SepTokenId, encoded.Ids[^1]);
        Assert.Equal(tokenizer.Encode("the cat sat on the mat the cat sat", "a dog", maxLength: 8).Ids, encoded.Ids);
        Assert.Equal(1, encoded.TypeIds![^1]);
        Assert.Equal(1, encoded.Label);
    }

    [Fact]
    public void BatchesArePaddedToTheirLongestRow()
    {
        var tokenizer = TaskFixtures.WordPiece();
        var task = SequenceClassificationTask.Classification(tokenizer, Labels, new BatchingOptions { BatchSize = 3 });
        var source = task.Batches(Animals);
        Assert.Equal(3, source.BatchesPerEpoch);
        int rows = 0;
        foreach (var batch in source.Epoch(0, 5))
        {
            using (batch)
            {
                var ids = batch.Inputs.InputIds!;
                var lengths = batch.Inputs.AttentionMask!.sum(1).data<long>().ToArray();
                Assert.Equal(lengths.Max(), ids.shape[1]);
                Assert.Null(batch.Inputs.TokenTypeIds); // single texts: all type ids 0
                for (int b = 0; b < lengths.Length; b++)
                    for (long t = lengths[b]; t < ids.shape[1]; t++) Assert.Equal(tokenizer.PadTokenId, (int)ids[b, t].item<long>());
                Assert.Equal(ScalarType.Int64, batch.Labels.dtype);
                rows += batch.Examples;
            }
        }
        Assert.Equal(Animals.Length, rows);
    }

    [Fact]
    public void AnEvaluationLabelTheTrainingDataLacksNamesFileLineAndField()
    {
        var task = SequenceClassificationTask.Classification(TaskFixtures.WordPiece(), Labels);
        var error = Assert.Throws<DataFormatException>(() => task.Evaluator([Example("a cat", "cat"), Example("a bird", "bird", line: 7)]));
        Assert.Equal("data.jsonl", error.File);
        Assert.Equal(7, error.Line);
        Assert.Equal("label", error.Field);
        Assert.Contains("unknown label 'bird'", error.Message);
    }

    [Fact]
    public void LossIsTheCrossEntropyOfTheLogits()
    {
        var tokenizer = TaskFixtures.WordPiece();
        var task = SequenceClassificationTask.Classification(tokenizer, Labels, new BatchingOptions { BatchSize = 8 });
        using var model = TaskFixtures.Model("bert", ModelTask.SequenceClassification, tokenizer, labels: 2);
        model.eval();
        using var batch = task.Batches(Animals).Epoch(0, 1).Single();
        var outputs = model.call(batch.Inputs);
        var expected = -nn.functional.log_softmax(outputs.Logits!, 1).gather(1, batch.Labels.unsqueeze(1)).mean();
        Assert.Equal(expected.item<float>(), task.Loss(outputs, batch).item<float>(), 5);
        Assert.True(task.Loss(outputs, batch).requires_grad);
    }

    [Fact]
    public void RegressionUsesMeanSquaredErrorAndCorrelations()
    {
        var tokenizer = TaskFixtures.WordPiece();
        var task = SequenceClassificationTask.Regression(tokenizer, new BatchingOptions { BatchSize = 4 });
        Assert.Equal(1, task.NumLabels);
        var examples = Animals.Select((e, i) => e with { Label = (i * 0.5).ToString(System.Globalization.CultureInfo.InvariantCulture) }).ToList();
        using var model = TaskFixtures.Model("bert", ModelTask.SequenceClassification, tokenizer, labels: 1);
        model.eval();
        using var batch = task.Batches(examples).Epoch(0, 3).First();
        Assert.Equal(ScalarType.Float32, batch.Labels.dtype);
        var outputs = model.call(batch.Inputs);
        var expected = (outputs.Logits!.reshape(-1) - batch.Labels).pow(2).mean();
        Assert.Equal(expected.item<float>(), task.Loss(outputs, batch).item<float>(), 5);

        var metrics = task.Evaluator(examples).Evaluate(model);
        Assert.Equal(metrics["loss"], metrics["mse"]);
        Assert.InRange(metrics["pearson"], -1, 1);
        Assert.InRange(metrics["spearman"], -1, 1);
        var bad = Assert.Throws<DataFormatException>(() => task.Evaluator([Example("a cat", "high", line: 3)]));
        Assert.Equal(3, bad.Line);
    }

    [Fact]
    public void DecodersClassifyWithTheirOwnLastTokenHead()
    {
        var tokenizer = TaskFixtures.ByteLevel();
        var task = SequenceClassificationTask.Classification(tokenizer, Labels, new BatchingOptions { BatchSize = 3, MaxLength = 32 });
        using var model = TaskFixtures.Model("gpt2", ModelTask.SequenceClassification, tokenizer, labels: 2);
        model.train();
        var evaluator = task.Evaluator(Animals);
        var metrics = evaluator.Evaluate(model);
        Assert.True(model.training, "the evaluator restores training mode");
        Assert.Equal("accuracy", evaluator.PrimaryMetric);
        Assert.True(evaluator.HigherIsBetter);
        foreach (string name in new[] { "accuracy", "macro_f1", "mcc", "loss" }) Assert.True(metrics.ContainsKey(name), name);
        Assert.Equal(metrics["loss"], task.Evaluator(Animals).Evaluate(model)["loss"], 6);
    }

    [Fact]
    public void TrainingOnTheBatchesLearnsTheTask()
    {
        var tokenizer = TaskFixtures.WordPiece();
        var task = SequenceClassificationTask.Classification(tokenizer, Labels, new BatchingOptions { BatchSize = 4 });
        using var model = TaskFixtures.Model("bert", ModelTask.SequenceClassification, tokenizer, labels: 2, seed: 3);
        var source = task.Batches(Animals);
        var evaluator = task.Evaluator(Animals);
        double before = evaluator.Evaluate(model)["loss"];
        using var optimizer = optim.AdamW(model.parameters(), lr: 3e-3);
        model.train();
        for (int epoch = 0; epoch < 15; epoch++)
        {
            foreach (var batch in source.Epoch(epoch, 11))
            {
                using var scope = NewDisposeScope();
                using (batch)
                {
                    optimizer.zero_grad();
                    task.Loss(model.call(batch.Inputs), batch).backward();
                    optimizer.step();
                }
            }
        }
        var after = evaluator.Evaluate(model);
        Assert.True(after["loss"] < before / 2, $"loss {before} -> {after["loss"]}");
        Assert.Equal(1.0, after["accuracy"]);
    }
}
