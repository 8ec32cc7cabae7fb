using PeftSharp.Models;
using PeftSharp.Training;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Training;

/// <summary>
/// Checkpoints and resume. Runs here use dropout and shuffling and must be repeatable bit for bit, so they have the
/// process-wide generator to themselves.
/// </summary>
[Collection(GlobalTorchStateCollection.Name)]
public class ResumeTests
{
    /// <summary>A model to train: LoRA with dropout, or a whole bf16 model (every parameter through a float32 master).</summary>
    static nn.Module<ModelInputs, ModelOutputs> Build(string setup) => setup switch
    {
        "gpt2-lora" => ToyModels.Lora("gpt2", loraDropout: 0.1),
        "llama-lora-bf16" => ToyModels.Lora("llama", loraDropout: 0.1, dtype: ScalarType.BFloat16),
        "distilbert-full-bf16" => ToyModels.Classifier("distilbert", ScalarType.BFloat16),
        _ => throw new ArgumentException(setup),
    };

    static TrainingOptions Options(string setup, string? output = null) => new()
    {
        LearningRate = 5e-3,
        Schedule = LearningRateSchedule.Cosine,
        WarmupSteps = 2,
        Epochs = 2,
        GradientAccumulationSteps = 2,                // 8 batches an epoch: 8 optimizer steps in all
        EvalSteps = 3,
        Precision = setup.EndsWith("bf16") ? TrainingPrecision.BFloat16 : TrainingPrecision.Float32,
        OutputDirectory = output,
    };

    static Trainer Make(nn.Module<ModelInputs, ModelOutputs> model, TrainingOptions options) =>
        new(model, new ClassificationObjective(), new TokenPresenceData(64, 8), options,
            new AccuracyEvaluator(new TokenPresenceData(16, 8, dataSeed: 7, shuffle: false)));

    [Theory]
    [InlineData("gpt2-lora")]
    [InlineData("llama-lora-bf16")]
    [InlineData("distilbert-full-bf16")]
    public void AResumedRunEndsBitForBitWhereAnUninterruptedOneDoes(string setup)
    {
        var whole = Build(setup);
        var uninterrupted = Make(whole, Options(setup)).Train();
        Assert.Equal(8, uninterrupted.Steps);

        using var dir = Fixtures.TempDir();
        using var cancel = new CancellationTokenSource();
        var stopAtThree = new SyncProgress<TrainingProgress>(p => { if (p.Step == 3) cancel.Cancel(); });
        var first = Make(Build(setup), Options(setup, dir.Path)).Train(stopAtThree, cancel.Token);
        Assert.Equal(TrainingStopReason.Cancelled, first.StopReason);
        Assert.Equal(3, first.Steps);                 // mid-epoch: 6 of the first epoch's 8 batches consumed
        string checkpoint = TrainingCheckpoint.Latest(dir.Path)!;
        Assert.Equal(first.LastCheckpoint, checkpoint);
        Assert.EndsWith("step-00000003", checkpoint);

        for (int i = 0; i < 3; i++) manual_seed(1000 + i);                      // the resumed run must not depend on the generator it finds
        var resumedModel = Build(setup);
        var resumed = Make(resumedModel, Options(setup, dir.Path)).Resume(checkpoint);
        Assert.Equal(TrainingStopReason.Completed, resumed.StopReason);
        Assert.Equal(8, resumed.Steps);

        var expected = ToyModels.Trainable(whole);
        var actual = ToyModels.Trainable(resumedModel);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, value) in expected)
            Assert.True(ToyModels.Identical(value, actual[name]), $"{setup}: {name} differs after resuming (max {Fixtures.MaxAbsDiff(value, actual[name])})");
        Assert.Equal(uninterrupted.History.Skip(3).Select(h => (h.Step, h.Loss, h.GradNorm, h.LearningRate)),
                     resumed.History.Select(h => (h.Step, h.Loss, h.GradNorm, h.LearningRate)));
        Assert.Equal(uninterrupted.BestMetric, resumed.BestMetric);
        Assert.Equal(uninterrupted.BestStep, resumed.BestStep);

        var steps = File.ReadAllLines(Path.Combine(dir.Path, "metrics.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64());
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), steps);
    }

    [Fact]
    public void TheSameSeedRepeatsARunAndAnotherSeedDoesNot()
    {
        Dictionary<string, Tensor> Run(long seed)
        {
            var model = ToyModels.Lora("gpt2", loraDropout: 0.1);
            new Trainer(model, new ClassificationObjective(), new TokenPresenceData(32, 8), new TrainingOptions { LearningRate = 5e-3, MaxSteps = 6, Seed = seed }).Train();
            return ToyModels.Trainable(model);
        }
        var first = Run(3);
        var again = Run(3);
        var other = Run(4);
        Assert.All(first, p => Assert.True(ToyModels.Identical(p.Value, again[p.Key]), $"{p.Key} differs between two runs with one seed"));
        Assert.Contains(first, p => !ToyModels.Identical(p.Value, other[p.Key]));
    }

    [Fact]
    public void CheckpointsAreCompleteRotatedAndReadable()
    {
        using var dir = Fixtures.TempDir();
        var options = Options("gpt2-lora", dir.Path) with { SaveSteps = 2, SaveTotalLimit = 2, EvalSteps = 2 };
        var model = ToyModels.Lora("gpt2", loraDropout: 0.1);
        var result = Make(model, options).Train();
        string folder = TrainingCheckpoint.Folder(dir.Path);
        Assert.Equal(new[] { "step-00000006", "step-00000008" }, Directory.GetDirectories(folder).Select(Path.GetFileName).Order());
        string last = TrainingCheckpoint.Latest(dir.Path)!;
        Assert.Equal(result.LastCheckpoint, last);
        foreach (string file in new[] { TrainingCheckpoint.StateFile, TrainingCheckpoint.OptionsFile, TrainingCheckpoint.TrainableFile,
                                        TrainingCheckpoint.OptimizerFile, TrainingCheckpoint.RandomStateFile, TrainingCheckpoint.BestFile })
            Assert.True(File.Exists(Path.Combine(last, file)), $"{file} missing");
        Assert.Equal(options, TrainingCheckpoint.ReadOptions(last));

        var trainable = Fixtures.ReadTensors(Path.Combine(last, TrainingCheckpoint.TrainableFile));
        var live = ToyModels.Trainable(model);
        Assert.Equal(live.Keys.Order(), trainable.Keys.Order());
        Assert.All(live, p => Assert.True(ToyModels.Identical(p.Value, trainable[p.Key])));
        var moments = Fixtures.ReadTensors(Path.Combine(last, TrainingCheckpoint.OptimizerFile));
        Assert.Equal(live.Keys.SelectMany(k => new[] { k + ".exp_avg", k + ".exp_avg_sq" }).Order(), moments.Keys.Order());
        Assert.All(moments.Values, m => Assert.Equal(ScalarType.Float32, m.dtype));

        var state = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(last, TrainingCheckpoint.StateFile))).RootElement;
        Assert.Equal(8, state.GetProperty("step").GetInt64());
        Assert.Equal(16, state.GetProperty("micro_batches").GetInt64());
        Assert.Equal(2, state.GetProperty("epoch").GetInt64());
        Assert.Equal(0, state.GetProperty("batch_in_epoch").GetInt64());
        Assert.Equal(result.BestMetric, state.GetProperty("best_metric").GetDouble());
        Assert.All(state.GetProperty("optimizer_steps").EnumerateObject(), s => Assert.Equal(8, s.Value.GetInt64()));
    }

    [Fact]
    public void ResumingRefusesOtherOptionsAndAnotherModel()
    {
        using var dir = Fixtures.TempDir();
        var options = Options("gpt2-lora", dir.Path) with { MaxSteps = 2, Epochs = 1 };
        Make(ToyModels.Lora("gpt2"), options).Train();
        string checkpoint = TrainingCheckpoint.Latest(dir.Path)!;

        var error = Assert.Throws<ArgumentException>(() => Make(ToyModels.Lora("gpt2"), options with { LearningRate = 1e-3 }).Resume(checkpoint));
        Assert.Contains("learning_rate was 0.005 in the checkpoint, now 0.001", error.Message);
        Make(ToyModels.Lora("gpt2"), options with { OutputDirectory = Path.Combine(dir.Path, "elsewhere"), EvalSteps = 1, LoggingSteps = 5 }).Resume(checkpoint);

        var llama = Assert.Throws<WeightMismatchException>(() => Make(ToyModels.Lora("llama"), options).Resume(checkpoint));
        Assert.Contains("missing", llama.Message);
        Assert.Throws<CheckpointFormatException>(() => Make(ToyModels.Lora("gpt2"), options).Resume(Path.Combine(dir.Path, "nowhere")));
        File.Delete(Path.Combine(checkpoint, TrainingCheckpoint.OptimizerFile));
        var missing = Assert.Throws<CheckpointFormatException>(() => Make(ToyModels.Lora("gpt2"), options).Resume(checkpoint));
        Assert.Contains(TrainingCheckpoint.OptimizerFile, missing.Message);
    }
}
