using PeftSharp.Models;
using PeftSharp.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Training;

/// <summary>bf16 mixed precision: a bf16 base with float32 adapters, and whole bf16 models through float32 masters.</summary>
public class PrecisionTests
{
    readonly ITestOutputHelper _output;

    public PrecisionTests(ITestOutputHelper output) => _output = output;

    static (TrainingResult Result, IReadOnlyDictionary<string, double> Final) Train(nn.Module<ModelInputs, ModelOutputs> model, TrainingPrecision precision, double learningRate)
    {
        var evaluator = new AccuracyEvaluator(new TokenPresenceData(64, 16, dataSeed: 99, shuffle: false));
        var options = new TrainingOptions { LearningRate = learningRate, Epochs = 5, WarmupSteps = 5, Precision = precision };
        var result = new Trainer(model, new ClassificationObjective(), new TokenPresenceData(128, 8), options, evaluator).Train();
        return (result, result.LastEvaluation!);
    }

    [Fact]
    public void Bf16AndFloat32RunsOfOneTaskAgree()
    {
        var (fp32, fp32Eval) = Train(ToyModels.Lora(), TrainingPrecision.Float32, 1e-2);
        var bf16Model = ToyModels.Lora(dtype: ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, bf16Model.Model.DType);
        Assert.All(bf16Model.parameters().Where(p => p.requires_grad), p => Assert.Equal(ScalarType.Float32, p.dtype));
        var (bf16, bf16Eval) = Train(bf16Model, TrainingPrecision.BFloat16, 1e-2);
        double fp32Loss = fp32.History.TakeLast(16).Average(h => h.Loss), bf16Loss = bf16.History.TakeLast(16).Average(h => h.Loss);
        _output.WriteLine($"float32: last-epoch loss {fp32Loss:F4}, held-out loss {fp32Eval["loss"]:F4}, accuracy {fp32Eval["accuracy"]:F3}");
        _output.WriteLine($"bf16:    last-epoch loss {bf16Loss:F4}, held-out loss {bf16Eval["loss"]:F4}, accuracy {bf16Eval["accuracy"]:F3}");
        Assert.True(fp32Eval["accuracy"] >= 0.8, "the float32 run must learn for the comparison to mean anything");
        Assert.Equal(fp32Eval["accuracy"], bf16Eval["accuracy"], 2);
        Assert.True(Math.Abs(bf16Eval["loss"] - fp32Eval["loss"]) <= 0.05 * fp32Eval["loss"] + 0.01,
            $"held-out loss {bf16Eval["loss"]} (bf16) vs {fp32Eval["loss"]} (float32)");
        Assert.Equal(ScalarType.BFloat16, bf16Model.Model.DType);
    }

    [Fact]
    public void AWholeBf16ModelTrainsThroughFloat32Masters()
    {
        var model = ToyModels.Classifier("llama", ScalarType.BFloat16);
        var before = ToyModels.Trainable(model);
        using (var parameters = TrainableParameters.Collect(model, TrainingPrecision.BFloat16))
        using (var optimizer = new TrainingOptimizer(parameters, new TrainingOptions()))
        {
            Assert.All(parameters.Entries, e => Assert.True(e.HasCopy));
            Assert.All(parameters.Entries, e => Assert.Equal(ScalarType.Float32, e.Master.dtype));
            Assert.All(optimizer.State().Moments, m => Assert.Equal(ScalarType.Float32, m.Value.dtype));
        }
        var (result, evaluation) = Train(model, TrainingPrecision.BFloat16, 2e-3);
        _output.WriteLine($"whole bf16 model: loss {result.History[0].Loss:F3} -> {result.FinalLoss:F3}, accuracy {evaluation["accuracy"]:F3}");
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
        Assert.Contains(ToyModels.Trainable(model), p => !ToyModels.Identical(p.Value, before[p.Key]));
        Assert.True(result.FinalLoss < 0.5 * result.History[0].Loss, $"loss {result.History[0].Loss} -> {result.FinalLoss}");
    }

    [Fact]
    public void SmallUpdatesAccumulateInTheMastersWhereBf16WouldRoundThemAway()
    {
        // A bf16 weight of 1.0 has a spacing of 2^-7: an update of 1e-4 rounds away each step, but 200 of them do not.
        var model = ToyModels.Classifier("llama", ScalarType.BFloat16);
        using var parameters = TrainableParameters.Collect(model, TrainingPrecision.BFloat16);
        var entry = parameters.Entries.First(e => e.Name.EndsWith("norm.weight"));
        using (no_grad()) entry.Master.fill_(1.0);
        parameters.MastersToModel();
        for (int i = 0; i < 200; i++)
        {
            using (no_grad()) entry.Master.add_(1e-4);
            parameters.MastersToModel();
        }
        Assert.Equal(1.02, entry.Master.mean().item<float>(), 4);
        Assert.Equal(1.0234375, entry.Model.to(ScalarType.Float32).mean().item<float>(), 6);   // 1.02 to the nearest bf16
    }
}
