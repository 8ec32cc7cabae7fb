using PeftSharp.Data;
using PeftSharp.Models;
using PeftSharp.Tasks;
using PeftSharp.Tokenization;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tasks;

public class CausalLanguageModelingTaskTests
{
    static LanguageModelingExample Text(string text, string? prompt = null) => new(text, prompt, new SourceLocation("lm.jsonl", 1));

    [Fact]
    public void PlainTextIsLabelledWithItsOwnIdsEndingInEos()
    {
        var tokenizer = TaskFixtures.ByteLevel();
        var task = new CausalLanguageModelingTask(tokenizer);
        var encoded = task.Encode([Text("the cat sat on the mat")]).Single();
        Assert.Equal([.. tokenizer.Encode("the cat sat on the mat").Ids, tokenizer.EosTokenId!.Value], encoded.Ids);
        Assert.Equal(encoded.Ids, encoded.TokenLabels);
    }

    [Fact]
    public void OnlyTheCompletionIsLearned()
    {
        var tokenizer = TaskFixtures.ByteLevel();
        var task = new CausalLanguageModelingTask(tokenizer);
        var encoded = task.Encode([Text(" on the mat", prompt: "where did the cat sit?")]).Single();
        var prompt = tokenizer.Encode("where did the cat sit?", addSpecialTokens: false).Ids;
        var completion = tokenizer.Encode(" on the mat", addSpecialTokens: false).Ids;
        Assert.Equal([.. prompt, .. completion, tokenizer.EosTokenId!.Value], encoded.Ids);
        Assert.Equal([.. prompt.Select(_ => -100), .. completion, tokenizer.EosTokenId!.Value], encoded.TokenLabels!);
    }

    [Fact]
    public void LongPromptsLoseTheirBeginningAndLongTextsBecomeSeveralExamples()
    {
        var tokenizer = TaskFixtures.ByteLevel();
        var task = new CausalLanguageModelingTask(tokenizer, new BatchingOptions { MaxLength = 6 });
        string long_ = string.Join(' ', TaskFixtures.Corpus);
        var chunks = task.Encode([Text(long_)]);
        Assert.True(chunks.Count > 2);
        Assert.All(chunks, c => Assert.True(c.Length <= 6));
        Assert.Equal([.. tokenizer.Encode(long_).Ids, tokenizer.EosTokenId!.Value], chunks.SelectMany(c => c.Ids.Take(c.Length)));

        var pair = task.Encode([Text(" a dog", prompt: long_)]).Single();
        Assert.Equal(6, pair.Length);
        Assert.Equal([.. tokenizer.Encode(" a dog", addSpecialTokens: false).Ids, tokenizer.EosTokenId!.Value], pair.Ids.Where((_, i) => pair.TokenLabels![i] != -100));
    }

    [Fact]
    public void SentencePieceModelsKeepTheirBosOnEveryExample()
    {
        var tokenizer = PretrainedTokenizer.FromDirectory(Fixtures.Shared("models", "stories260K-hf"));
        var task = new CausalLanguageModelingTask(tokenizer);
        var plain = task.Encode([Text("Once upon a time")]).Single();
        Assert.Equal(tokenizer.BosTokenId, plain.Ids[0]);
        Assert.Equal(tokenizer.EosTokenId, plain.Ids[^1]);
        var prompted = task.Encode([Text(" a girl", prompt: "Once upon a time")]).Single();
        Assert.Equal(tokenizer.BosTokenId, prompted.Ids[0]);
        Assert.Equal(-100, prompted.TokenLabels![0]);
    }

    [Fact]
    public void LossPredictsTheNextTokenAndIgnoresPaddingAndPrompts()
    {
        var tokenizer = TaskFixtures.ByteLevel();
        var task = new CausalLanguageModelingTask(tokenizer, new BatchingOptions { BatchSize = 3, MaxLength = 32 });
        LanguageModelingExample[] examples = [Text("the cat sat on the mat"), Text("a dog"), Text(" on the log", prompt: "where is the dog?")];
        using var model = TaskFixtures.Model("gpt2", ModelTask.CausalLM, tokenizer);
        model.eval();
        using var batch = task.Batches(examples).Epoch(0, 1).Single();
        var outputs = model.call(batch.Inputs);

        // Reference: for each row, sum over t of -log p(label[t+1] | up to t) where label[t+1] != -100.
        var logProbs = nn.functional.log_softmax(outputs.Logits!, 2);
        var labels = batch.Labels;
        double total = 0;
        int counted = 0;
        for (int b = 0; b < labels.shape[0]; b++)
            for (int t = 0; t + 1 < labels.shape[1]; t++)
            {
                long target = labels[b, t + 1].item<long>();
                if (target == -100) continue;
                total -= logProbs[b, t, target].item<float>();
                counted++;
            }
        Assert.Equal(total / counted, task.Loss(outputs, batch).item<float>(), 4);

        var evaluator = task.Evaluator(examples);
        var metrics = evaluator.Evaluate(model);
        Assert.Equal("loss", evaluator.PrimaryMetric);
        Assert.False(evaluator.HigherIsBetter);
        Assert.Equal(total / counted, metrics["loss"], 4);
        Assert.Equal(Math.Exp(metrics["loss"]), metrics["perplexity"], 6);
        Assert.InRange(metrics["token_accuracy"], 0, 1);
    }
}
