using System.Diagnostics;
using System.Text;
using PeftSharp.Models;
using PeftSharp.Tokenization;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.Lora;
using PeftSharp.Tuners.Prompts;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners.Prompts;

/// <summary>
/// The measurement behind docs/prompt-methods.md: does prefix tuning's MLP reparameterisation help? Prefix tuning with
/// and without it, prompt tuning, P-tuning and LoRA, trained on the same small generation task with the same budget
/// over three seeds, on the real pretrained stories260K model. Runs only when PEFTSHARP_EXPERIMENTS=1 (minutes of CPU):
/// PEFTSHARP_EXPERIMENTS=1 dotnet test tests/PeftSharp.Tests --filter "Category=Experiment" --logger "console;verbosity=detailed"
/// </summary>
[Trait("Category", "Experiment")]
public class PromptMethodsExperiment
{
    const int BatchSize = 20, VirtualTokens = 8;
    static readonly int Steps = int.TryParse(Environment.GetEnvironmentVariable("PEFTSHARP_EXPERIMENT_STEPS"), out int steps) ? steps : 150;
    const double LearningRate = 1e-2;
    static readonly int[] Seeds = { 1, 2, 3 };

    static readonly string[] TrainNames =
        { "Tom", "Lily", "Sam", "Mia", "Ben", "Sue", "Max", "Anna", "Tim", "Lucy", "Jack", "Ella", "Bob", "Amy", "Leo", "Kim", "Dan", "Zoe", "Joe", "Eve" };
    static readonly string[] TestNames = { "Fred", "Rose", "Jake", "Emma", "Paul", "Kate", "Mark", "Jane", "Nick", "Sara" };

    /// <summary>The rule to learn: where someone went decides how they felt.</summary>
    static readonly (string Place, string Feeling)[] Rule =
        { ("park", "happy"), ("school", "tired"), ("beach", "excited"), ("forest", "scared"), ("zoo", "surprised") };

    readonly ITestOutputHelper _output;
    public PromptMethodsExperiment(ITestOutputHelper output) => _output = output;

    static PrefixTuningConfig Projected() => new() { NumVirtualTokens = VirtualTokens, PrefixProjection = true, EncoderHiddenSize = 128 };

    /// <summary>Name, config, and whether to fold the reparameterisation right away (training the flat prefix from the MLP's initial output).</summary>
    static readonly (string Name, Func<PeftConfig> Config, bool FoldAtStart)[] Methods =
    {
        ("prefix tuning, no MLP (N(0,1) init, as PEFT)", () => new PrefixTuningConfig { NumVirtualTokens = VirtualTokens }, false),
        ("prefix tuning, no MLP, init = the MLP's initial output", Projected, true),
        ("prefix tuning + MLP (hidden 128), folded after training", Projected, false),
        ("prompt tuning (vocab init)", () => new PromptTuningConfig { NumVirtualTokens = VirtualTokens, PromptTuningInit = PromptTuningInit.SampleVocab }, false),
        ("P-tuning (MLP, hidden 128)", () => new PTuningConfig { NumVirtualTokens = VirtualTokens, EncoderHiddenSize = 128 }, false),
        ("LoRA r=4 on q_proj, v_proj", () => new LoraConfig { R = 4, LoraAlpha = 8 }, false),
    };

    [Fact]
    public void ReparameterisationAndMethodsSideBySide()
    {
        if (Environment.GetEnvironmentVariable("PEFTSHARP_EXPERIMENTS") != "1") return;
        string dir = Fixtures.Shared("models", "stories260K-hf");
        var tokenizer = PretrainedTokenizer.FromDirectory(dir);
        var train = Examples(tokenizer, TrainNames);
        var test = Examples(tokenizer, TestNames);
        var report = new StringBuilder();
        report.AppendLine($"task: '<name> went to the <place>. <name> felt' -> ' <feeling>.' ({Rule.Length} places; {train.Count} training, {test.Count} held-out examples with unseen names)");
        report.AppendLine($"budget: {Steps} AdamW steps, batch {BatchSize}, lr {LearningRate}, {VirtualTokens} virtual tokens; seeds {string.Join(", ", Seeds)}");
        var baseModel = AutoModel.Load(dir).Model;
        var (baseLoss, baseAccuracy) = Evaluate(baseModel, test);
        report.AppendLine($"base model: held-out answer loss {baseLoss:F3}, exact answers {baseAccuracy:P0}");
        report.AppendLine("| method | trainable params | trainable % | context left | held-out answer loss (mean ± sd) | exact answers (mean ± sd) | seconds/run |");
        report.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var (name, config, foldAtStart) in Methods)
        {
            var losses = new List<double>();
            var accuracies = new List<double>();
            TrainableReport? counts = null;
            int context = 0;
            var clock = Stopwatch.StartNew();
            foreach (int seed in Seeds)
            {
                manual_seed(seed);
                var peft = PeftModel.Create(AutoModel.Load(dir).Model, config());
                if (foldAtStart) PromptLearning.Fold(peft, "default");
                counts = peft.TrainableParameters();
                context = PromptLearning.ContextLeft(peft, "default");
                Train(peft, train, seed);
                if (peft.Adapters["default"] is PromptLearningConfig) PromptLearning.Fold(peft, "default");   // inference carries only the prompt
                var (loss, accuracy) = Evaluate(peft, test);
                losses.Add(loss);
                accuracies.Add(accuracy);
                Log($"{name} seed {seed}: loss {loss:F3}, exact {accuracy:P0} ({clock.Elapsed.TotalSeconds:F0} s so far)");
            }
            report.AppendLine($"| {name} | {counts!.Trainable:N0} | {counts.Percent:F2} | {context} | {losses.Average():F3} ± {Sd(losses):F3} | " +
                              $"{accuracies.Average():P0} ± {Sd(accuracies):P0} | {clock.Elapsed.TotalSeconds / Seeds.Length:F1} |");
        }
        Log(report.ToString());
    }

    /// <summary>To the test output and, as it happens, to the file PEFTSHARP_EXPERIMENT_OUT names.</summary>
    void Log(string line)
    {
        _output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("PEFTSHARP_EXPERIMENT_OUT") is { Length: > 0 } path) File.AppendAllText(path, line + Environment.NewLine);
    }

    /// <summary>(ids with BOS, index of the first answer token) for every name x place.</summary>
    static List<(long[] Ids, int AnswerStart)> Examples(PretrainedTokenizer tokenizer, string[] names)
    {
        var examples = new List<(long[], int)>();
        foreach (string name in names)
            foreach (var (place, feeling) in Rule)
            {
                var prompt = tokenizer.Encode($"{name} went to the {place}. {name} felt").Ids;
                var full = tokenizer.Encode($"{name} went to the {place}. {name} felt {feeling}.").Ids;
                Assert.True(full.Take(prompt.Count).SequenceEqual(prompt), "the answer must tokenize after the prompt");
                examples.Add((full.Select(i => (long)i).ToArray(), prompt.Count));
            }
        return examples;
    }

    /// <summary>Right-padded batch: ids, mask, and next-token targets (-100 except at the answer's tokens).</summary>
    static (Tensor Ids, Tensor Mask, Tensor Targets) Batch(IReadOnlyList<(long[] Ids, int AnswerStart)> examples)
    {
        int length = examples.Max(e => e.Ids.Length);
        var ids = zeros(examples.Count, length, ScalarType.Int64);
        var mask = zeros(examples.Count, length, ScalarType.Int64);
        var targets = full(new long[] { examples.Count, length }, -100L, ScalarType.Int64);
        for (int row = 0; row < examples.Count; row++)
        {
            var (tokens, start) = examples[row];
            ids[row].narrow(0, 0, tokens.Length).copy_(tensor(tokens));
            mask[row].narrow(0, 0, tokens.Length).fill_(1);
            // Logit t predicts token t + 1: the answer tokens are predicted from positions start - 1 ... end - 2.
            targets[row].narrow(0, start - 1, tokens.Length - start).copy_(tensor(tokens[start..]));
        }
        return (ids, mask, targets);
    }

    static Tensor Loss(nn.Module<ModelInputs, ModelOutputs> model, (Tensor Ids, Tensor Mask, Tensor Targets) batch)
    {
        var logits = model.call(new ModelInputs { InputIds = batch.Ids, AttentionMask = batch.Mask }).Logits!;
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), batch.Targets.reshape(-1), ignore_index: -100);
    }

    static void Train(PeftModel peft, List<(long[] Ids, int AnswerStart)> examples, int seed)
    {
        var random = new Random(seed);
        var optimizer = optim.AdamW(peft.parameters().Where(p => p.requires_grad).ToList(), lr: LearningRate);
        peft.train();
        for (int step = 0; step < Steps; step++)
        {
            using var scope = NewDisposeScope();
            var batch = examples.OrderBy(_ => random.Next()).Take(BatchSize).ToList();
            optimizer.zero_grad();
            Loss(peft, Batch(batch)).backward();
            optimizer.step();
        }
        peft.eval();
    }

    /// <summary>Mean answer loss and the share of examples whose answer tokens are all the greedy choice.</summary>
    static (double Loss, double Accuracy) Evaluate(nn.Module<ModelInputs, ModelOutputs> model, List<(long[] Ids, int AnswerStart)> examples)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        model.eval();
        var batch = Batch(examples);
        var logits = model.call(new ModelInputs { InputIds = batch.Ids, AttentionMask = batch.Mask }).Logits!;
        double loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), batch.Targets.reshape(-1), ignore_index: -100).item<float>();
        var counted = batch.Targets.ne(-100);
        var wrong = logits.argmax(-1).ne(batch.Targets).logical_and(counted).any(1);
        return (loss, 1 - wrong.to(ScalarType.Float64).mean().item<double>());
    }

    static double Sd(List<double> values)
    {
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }
}
