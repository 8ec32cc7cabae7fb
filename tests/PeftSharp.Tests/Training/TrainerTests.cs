using System.Diagnostics;
using System.Text.Json;
using PeftSharp.Models;
using PeftSharp.Training;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.IA3;
using PeftSharp.Tuners.Lora;
using PeftSharp.Tuners.Selection;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Training;

/// <summary>
/// The training loop on tiny models without dropout: nothing draws from the shared generator, so these run in parallel
/// with other tests.
/// </summary>
public class TrainerTests
{
    readonly ITestOutputHelper _output;

    public TrainerTests(ITestOutputHelper output) => _output = output;

    static Trainer Make(nn.Module<ModelInputs, ModelOutputs> model, TrainingOptions options, IBatchSource? data = null, IEvaluator? evaluator = null, ITrainingObjective? objective = null) =>
        new(model, objective ?? new ClassificationObjective(), data ?? new TokenPresenceData(32, 8), options, evaluator);

    [Fact]
    public void ALoraAdapterLearnsTheToyTask()
    {
        var model = ToyModels.Lora();
        var evaluator = new AccuracyEvaluator(new TokenPresenceData(64, 16, dataSeed: 99, shuffle: false));
        double before = evaluator.Evaluate(model)["accuracy"];
        var clock = Stopwatch.StartNew();
        var result = Make(model, new TrainingOptions { LearningRate = 1e-2, Epochs = 6, WarmupSteps = 5 }, new TokenPresenceData(128, 8), evaluator).Train();
        _output.WriteLine($"{result.Steps} steps in {clock.ElapsedMilliseconds} ms; held-out accuracy {before:F3} -> {result.LastEvaluation!["accuracy"]:F3}; " +
                          $"training loss {result.History[0].Loss:F3} -> {result.FinalLoss:F3}");
        Assert.Equal(TrainingStopReason.Completed, result.StopReason);
        Assert.Equal(6 * 16, result.Steps);
        Assert.True(result.LastEvaluation["accuracy"] >= 0.85, $"held-out accuracy {result.LastEvaluation["accuracy"]} (chance is 0.5)");
        Assert.True(result.FinalLoss < 0.3 * result.History[0].Loss, $"loss {result.History[0].Loss} -> {result.FinalLoss}");
    }

    public static IEnumerable<object[]> InvalidOptions() => new (TrainingOptions Options, string Name)[]
    {
        (new() { LearningRate = 0 }, nameof(TrainingOptions.LearningRate)),
        (new() { LearningRate = double.NaN }, nameof(TrainingOptions.LearningRate)),
        (new() { WeightDecay = -1 }, nameof(TrainingOptions.WeightDecay)),
        (new() { Beta1 = 1 }, nameof(TrainingOptions.Beta1)),
        (new() { Beta2 = -0.1 }, nameof(TrainingOptions.Beta2)),
        (new() { Epsilon = 0 }, nameof(TrainingOptions.Epsilon)),
        (new() { Schedule = (LearningRateSchedule)7 }, nameof(TrainingOptions.Schedule)),
        (new() { WarmupSteps = -1 }, nameof(TrainingOptions.WarmupSteps)),
        (new() { WarmupRatio = 1.5 }, nameof(TrainingOptions.WarmupRatio)),
        (new() { WarmupSteps = 3, WarmupRatio = 0.1 }, nameof(TrainingOptions.WarmupRatio)),
        (new() { Epochs = 0 }, nameof(TrainingOptions.Epochs)),
        (new() { MaxSteps = -5 }, nameof(TrainingOptions.MaxSteps)),
        (new() { GradientAccumulationSteps = 0 }, nameof(TrainingOptions.GradientAccumulationSteps)),
        (new() { MaxGradNorm = -1 }, nameof(TrainingOptions.MaxGradNorm)),
        (new() { MaxConsecutiveNonFiniteSteps = 0 }, nameof(TrainingOptions.MaxConsecutiveNonFiniteSteps)),
        (new() { Precision = (TrainingPrecision)3 }, nameof(TrainingOptions.Precision)),
        (new() { EvalSteps = -1 }, nameof(TrainingOptions.EvalSteps)),
        (new() { EarlyStoppingPatience = -1 }, nameof(TrainingOptions.EarlyStoppingPatience)),
        (new() { EarlyStoppingThreshold = -0.1 }, nameof(TrainingOptions.EarlyStoppingThreshold)),
        (new() { SaveSteps = 10 }, nameof(TrainingOptions.SaveSteps)),
        (new() { SaveTotalLimit = -1 }, nameof(TrainingOptions.SaveTotalLimit)),
        (new() { LoggingSteps = 0 }, nameof(TrainingOptions.LoggingSteps)),
        (new() { OutputDirectory = " " }, nameof(TrainingOptions.OutputDirectory)),
    }.Select(c => new object[] { c.Options, c.Name });

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void InvalidOptionsAreRefusedByName(TrainingOptions options, string option)
    {
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(option, error.ParamName);
        Assert.Contains(option, error.Message);
        Assert.Equal(option, Assert.Throws<ArgumentException>(() => Make(ToyModels.Lora(), options)).ParamName);
    }

    [Fact]
    public void OptionsThatNeedAnEvaluatorSaySo()
    {
        foreach (var (options, name) in new (TrainingOptions, string)[]
                 {
                     (new() { EvalSteps = 2 }, nameof(TrainingOptions.EvalSteps)),
                     (new() { EarlyStoppingPatience = 2 }, nameof(TrainingOptions.EarlyStoppingPatience)),
                     (new() { LoadBestAtEnd = true }, nameof(TrainingOptions.LoadBestAtEnd)),
                 })
            Assert.Equal(name, Assert.Throws<ArgumentException>(() => Make(ToyModels.Lora(), options)).ParamName);
    }

    [Fact]
    public void SchedulesFollowHuggingFacesFormulas()
    {
        double M(LearningRateSchedule s, long step) => LearningRateSchedules.Multiplier(s, step, totalSteps: 10, warmupSteps: 2);
        foreach (var schedule in Enum.GetValues<LearningRateSchedule>())
        {
            Assert.Equal(0.0, M(schedule, 0));
            Assert.Equal(0.5, M(schedule, 1));
            Assert.Equal(1.0, M(schedule, 2));
        }
        Assert.Equal(0.5, M(LearningRateSchedule.Linear, 6), 12);
        Assert.Equal(0.125, M(LearningRateSchedule.Linear, 9), 12);
        Assert.Equal(0.5, M(LearningRateSchedule.Cosine, 6), 12);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 7 / 8)), M(LearningRateSchedule.Cosine, 9), 12);
        Assert.Equal(1.0, M(LearningRateSchedule.Constant, 9));
        Assert.Equal(1.0, LearningRateSchedules.Multiplier(LearningRateSchedule.Linear, 0, 10, 0));
        Assert.Equal(3, LearningRateSchedules.WarmupSteps(new TrainingOptions { WarmupRatio = 0.25 }, 10));
    }

    [Fact]
    public void EachStepReportsTheLearningRateItUsed()
    {
        var trainer = Make(ToyModels.Lora(), new TrainingOptions { LearningRate = 1e-3, Schedule = LearningRateSchedule.Cosine, WarmupRatio = 0.2, MaxSteps = 10 });
        var result = trainer.Train();
        Assert.Equal(10, result.History.Count);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(i + 1, result.History[i].Step);
            Assert.Equal(1e-3 * LearningRateSchedules.Multiplier(LearningRateSchedule.Cosine, i, 10, 2), result.History[i].LearningRate, 15);
        }
        Assert.Equal(0.0, result.History[0].LearningRate);
        Assert.Equal(1e-3, result.History[2].LearningRate, 15);
    }

    [Fact]
    public void MaxStepsCyclesThroughEpochsAndEpochsCountMicroBatches()
    {
        var data = new TokenPresenceData(32, 8);                               // 4 batches an epoch
        var byEpochs = Make(ToyModels.Lora(), new TrainingOptions { Epochs = 3, GradientAccumulationSteps = 5 }, data);
        Assert.Equal(3, byEpochs.TotalSteps);                                  // 12 micro-batches: 5 + 5 + 2
        var result = byEpochs.Train();
        Assert.Equal(3, result.Steps);
        Assert.Equal(3.0, result.History[^1].Epoch);
        Assert.Equal(new[] { 0, 1, 2 }, data.EpochsRequested);

        var cycling = new TokenPresenceData(32, 8);
        var byMaxSteps = Make(ToyModels.Lora(), new TrainingOptions { Epochs = 1, MaxSteps = 6 }, cycling).Train();
        Assert.Equal(6, byMaxSteps.Steps);
        Assert.Equal(1.5, byMaxSteps.History[^1].Epoch);
        Assert.Equal(new[] { 0, 1 }, cycling.EpochsRequested);
    }

    [Fact]
    public void AccumulatingTwoHalfBatchesEqualsOneWholeBatch()
    {
        var options = new TrainingOptions { LearningRate = 1e-2, MaxSteps = 4, MaxGradNorm = 0 };
        var whole = ToyModels.Lora();
        Make(whole, options, new TokenPresenceData(32, 8, shuffle: false)).Train();
        var halves = ToyModels.Lora();
        var result = Make(halves, options with { GradientAccumulationSteps = 2 }, new TokenPresenceData(32, 4, shuffle: false)).Train();
        Assert.Equal(4, result.Steps);
        var expected = ToyModels.Trainable(whole);
        foreach (var (name, value) in ToyModels.Trainable(halves))
            Assert.True(Fixtures.MaxAbsDiff(value, expected[name]) < 1e-5, $"{name} differs by {Fixtures.MaxAbsDiff(value, expected[name])}");
    }

    [Fact]
    public void TheReportedGradientNormIsTheGlobalNormBeforeClipping()
    {
        var model = ToyModels.Lora();
        var data = new TokenPresenceData(32, 8, shuffle: false);
        double expected;
        using (var batch = data.Epoch(0, 0).First())
        {
            model.train();
            nn.functional.cross_entropy(model.call(batch.Inputs).Logits!, batch.Labels).backward();
            var grads = model.parameters().Where(p => p.requires_grad).Select(p => p.grad!.to(ScalarType.Float64)).ToList();
            expected = Math.Sqrt(grads.Sum(g => g.pow(2).sum().item<double>()));
            foreach (var p in model.parameters()) p.grad = null;
        }
        var result = Make(model, new TrainingOptions { MaxSteps = 1, MaxGradNorm = expected / 10 }, data).Train();
        Assert.Equal(expected, result.History[0].GradNorm, 4);
        Assert.True(result.History[0].GradNorm > expected / 10);
    }

    [Fact]
    public void ClippingScalesTheGlobalNormDownToTheLimit()
    {
        var model = ToyModels.Lora();
        using var parameters = TrainableParameters.Collect(model, TrainingPrecision.Float32);
        foreach (var entry in parameters.Entries) entry.Master.grad = full_like(entry.Master, 3.0);
        double norm = parameters.GradientNorm();
        Assert.Equal(3.0 * Math.Sqrt(parameters.Entries.Sum(e => e.Master.numel())), norm, 3);
        parameters.ClipGradients(norm, 0.5);
        Assert.Equal(0.5, parameters.GradientNorm(), 5);
        parameters.ClipGradients(0.5, 1.0);                                     // below the limit: unchanged
        Assert.Equal(0.5, parameters.GradientNorm(), 5);
        parameters.ClearGradients();
        Assert.All(parameters.Entries, e => Assert.Null(e.Master.grad));
    }

    [Fact]
    public void WeightDecaySparesBiasesNormsAndAdapterVectors()
    {
        string[] Decayed(nn.Module<ModelInputs, ModelOutputs> model)
        {
            using var parameters = TrainableParameters.Collect(model, TrainingPrecision.Float32);
            using var optimizer = new TrainingOptimizer(parameters, new TrainingOptions());
            Assert.Equal(parameters.Entries.Count, parameters.Entries.Select(e => e.Name).Distinct().Count());
            return optimizer.DecayedNames.ToArray();
        }

        var dora = Decayed(PeftModel.Create(TinyModelsFor("llama"), new LoraConfig { R = 4, UseDora = true }));
        Assert.Contains(dora, n => n.EndsWith("lora_A.default.weight"));
        Assert.Contains(dora, n => n.EndsWith("lora_B.default.weight"));
        Assert.Contains(dora, n => n.Contains("score") && n.EndsWith(".weight"));
        Assert.DoesNotContain(dora, n => n.Contains("lora_magnitude_vector"));

        var ia3 = PeftModel.Create(TinyModelsFor("gpt2"), new IA3Config());
        Assert.Contains(ia3.named_parameters(), p => p.name.Contains("ia3_l") && p.parameter.requires_grad && p.parameter.dim() == 2);
        Assert.DoesNotContain(Decayed(ia3), n => n.Contains("ia3_l"));

        var full = Decayed(PeftModel.Create(TinyModelsFor("gpt2"), new PartialFineTuningConfig { Full = true }));
        Assert.DoesNotContain(full, n => n.EndsWith(".bias"));
        Assert.DoesNotContain(full, n => n.Contains("ln_"));
        Assert.Contains(full, n => n.Contains("c_attn") && n.EndsWith(".weight"));
    }

    static TransformerModel TinyModelsFor(string type) => TinyModels.Create(type, ModelTask.SequenceClassification);

    [Fact]
    public void TiedParametersAreTrainedOnce()
    {
        var model = TinyModels.Create("qwen2", ModelTask.CausalLM);   // lm_head shares the embedding matrix
        var names = model.named_parameters().Select(p => p.name).ToList();
        using var parameters = TrainableParameters.Collect(model, TrainingPrecision.Float32);
        Assert.Equal(model.parameters().DistinctBy(p => PeftSharp.IO.NativeTensorMemory.Identity(p)).Count(), parameters.Entries.Count);
        Assert.Single(parameters.Entries, e => e.Name is "model.embed_tokens.weight" or "lm_head.weight");
        Assert.All(parameters.Entries, e => Assert.Same(e.Model, e.Master));
    }

    [Fact]
    public void PrecisionMustFitTheModel()
    {
        var bf16 = ToyModels.Lora(dtype: ScalarType.BFloat16);
        var error = Assert.Throws<ArgumentException>(() => Make(bf16, new TrainingOptions { MaxSteps = 1 }).Train());
        Assert.Contains("BFloat16", error.Message);
        error = Assert.Throws<ArgumentException>(() => Make(ToyModels.Lora(), new TrainingOptions { MaxSteps = 1, Precision = TrainingPrecision.BFloat16 }).Train());
        Assert.Contains("no parameter of the model is bfloat16", error.Message);
        var frozen = ToyModels.Lora();
        foreach (var p in frozen.parameters()) p.requires_grad = false;
        Assert.Contains("no parameter that requires grad", Assert.Throws<ArgumentException>(() => Make(frozen, new TrainingOptions { MaxSteps = 1 }).Train()).Message);
    }

    [Fact]
    public void ATrainerRunsOnce()
    {
        var trainer = Make(ToyModels.Lora(), new TrainingOptions { MaxSteps = 1 });
        trainer.Train();
        Assert.Throws<InvalidOperationException>(() => trainer.Train());
    }

    /// <summary>The cross-entropy, made non-finite (in the loss or only in the gradient) on chosen calls.</summary>
    sealed class FaultyObjective : ITrainingObjective
    {
        readonly Func<int, string?> _fault;
        int _calls;
        public FaultyObjective(Func<int, string?> fault) => _fault = fault;

        public Tensor Loss(ModelOutputs outputs, TrainingBatch batch)
        {
            var loss = nn.functional.cross_entropy(outputs.Logits!, batch.Labels);
            return _fault(++_calls) switch
            {
                "loss" => loss * double.NaN,
                // Finite value, infinite derivative: d sqrt(x)/dx at x = 0.
                "gradient" => loss + (outputs.Logits! * 0).sum().abs().sqrt(),
                _ => loss,
            };
        }
    }

    [Fact]
    public void ANonFiniteLossOrGradientSkipsTheStep()
    {
        var model = ToyModels.Lora();
        var snapshots = new List<Dictionary<string, Tensor>> { ToyModels.Trainable(model) };
        var progress = new SyncProgress<TrainingProgress>(_ => snapshots.Add(ToyModels.Trainable(model)));
        var objective = new FaultyObjective(call => call switch { 2 => "loss", 4 => "gradient", _ => null });
        var result = Make(model, new TrainingOptions { LearningRate = 1e-2, MaxSteps = 5 }, objective: objective).Train(progress);
        Assert.Equal(5, result.Steps);
        Assert.Equal(2, result.SkippedSteps);
        Assert.True(double.IsNaN(result.History[1].GradNorm));
        Assert.False(double.IsFinite(result.History[3].GradNorm));
        foreach (int skipped in new[] { 2, 4 })                                  // steps 2 and 4 changed nothing
            foreach (var (name, value) in snapshots[skipped])
                Assert.True(ToyModels.Identical(value, snapshots[skipped - 1][name]), $"{name} changed on skipped step {skipped}");
        Assert.False(ToyModels.Identical(snapshots[3]["base_model.model.score.overrides.default.weight"], snapshots[2]["base_model.model.score.overrides.default.weight"]));
        Assert.True(double.IsFinite(result.FinalLoss));
    }

    [Fact]
    public void TooManyNonFiniteStepsInARowStopTheRun()
    {
        var model = ToyModels.Lora();
        var before = ToyModels.Trainable(model);
        var trainer = Make(model, new TrainingOptions { MaxSteps = 10, MaxConsecutiveNonFiniteSteps = 3 }, objective: new FaultyObjective(call => call >= 2 ? "loss" : null));
        var error = Assert.Throws<TrainingDivergedException>(() => trainer.Train());
        Assert.Equal(4, error.Step);
        Assert.Equal(3, error.Consecutive);
        Assert.Contains("non-finite", error.Message);
        Assert.Contains("loss NaN", error.Message);
        Assert.Contains(ToyModels.Trainable(model), p => !ToyModels.Identical(p.Value, before[p.Key]));   // step 1 trained
    }

    /// <summary>Returns a scripted accuracy per call.</summary>
    sealed class ScriptedEvaluator : IEvaluator
    {
        readonly double[] _values;
        int _calls;
        public ScriptedEvaluator(params double[] values) => _values = values;
        public string PrimaryMetric => "accuracy";
        public bool HigherIsBetter => true;
        public IReadOnlyDictionary<string, double> Evaluate(nn.Module<ModelInputs, ModelOutputs> model)
        {
            Assert.False(model.training);
            Assert.False(is_grad_enabled());
            return new Dictionary<string, double> { ["accuracy"] = _values[_calls++], ["calls"] = _calls };
        }
    }

    [Fact]
    public void EarlyStoppingKeepsAndRestoresTheBestState()
    {
        var model = ToyModels.Lora();
        var byStep = new Dictionary<long, Dictionary<string, Tensor>>();
        var progress = new SyncProgress<TrainingProgress>(p => byStep[p.Step] = ToyModels.Trainable(model));
        var evaluator = new ScriptedEvaluator(0.5, 0.7, 0.6, 0.71, 0.65);
        var options = new TrainingOptions { LearningRate = 1e-2, MaxSteps = 20, EvalSteps = 2, EarlyStoppingPatience = 2, EarlyStoppingThreshold = 0.02, LoadBestAtEnd = true };
        var result = Make(model, options, evaluator: evaluator).Train(progress);
        Assert.Equal(TrainingStopReason.EarlyStopped, result.StopReason);
        Assert.Equal(8, result.Steps);                                          // 0.6 and 0.71 (< 0.7 + 0.02) did not improve
        Assert.Equal(0.7, result.BestMetric);
        Assert.Equal(4, result.BestStep);
        Assert.Equal(4.0, result.LastEvaluation!["calls"]);
        Assert.Equal(new long[] { 2, 4, 6, 8 }, result.History.Where(h => h.Evaluation is not null).Select(h => h.Step));
        foreach (var (name, value) in ToyModels.Trainable(model))
            Assert.True(ToyModels.Identical(value, byStep[4][name]), $"{name} is not the best step's");
        Assert.False(byStep[8].All(p => ToyModels.Identical(p.Value, byStep[4][p.Key])));
    }

    [Fact]
    public void MetricsGoToJsonLinesAndProgressReportsEachLoggedStep()
    {
        using var dir = Fixtures.TempDir();
        var reports = new List<TrainingProgress>();
        var evaluator = new AccuracyEvaluator(new TokenPresenceData(16, 8, dataSeed: 5, shuffle: false));
        var options = new TrainingOptions { MaxSteps = 6, LoggingSteps = 2, EvalSteps = 3, OutputDirectory = dir.Path };
        var result = Make(ToyModels.Lora(), options, evaluator: evaluator).Train(new SyncProgress<TrainingProgress>(reports.Add));
        Assert.Equal(new long[] { 2, 3, 4, 6 }, reports.Select(r => r.Step));
        Assert.Equal(reports, result.History);
        Assert.All(reports, r =>
        {
            Assert.Equal(6, r.TotalSteps);
            Assert.True(r.TokensPerSecond > 0);
            Assert.True(r.Eta >= TimeSpan.Zero);
            Assert.True(double.IsFinite(r.Loss) && double.IsFinite(r.GradNorm));
        });
        Assert.Equal(TimeSpan.Zero, reports[^1].Eta);

        var lines = File.ReadAllLines(Path.Combine(dir.Path, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(4, lines.Count);
        foreach (string field in new[] { "step", "epoch", "loss", "lr", "grad_norm", "tokens_per_s", "skipped_steps" })
            Assert.All(lines, l => Assert.True(l.TryGetProperty(field, out _), $"no {field}"));
        Assert.Equal(3, lines[1].GetProperty("step").GetInt64());
        Assert.Equal(reports[1].Evaluation!["accuracy"], lines[1].GetProperty("eval_accuracy").GetDouble());
        Assert.False(lines[0].TryGetProperty("eval_accuracy", out _));
        Assert.Equal(reports[2].Loss, lines[2].GetProperty("loss").GetDouble());
        Assert.Equal(0.5, lines[0].GetProperty("epoch").GetDouble());           // 2 of the epoch's 4 batches
    }
}
