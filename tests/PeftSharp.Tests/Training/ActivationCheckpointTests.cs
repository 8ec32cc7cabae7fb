using PeftSharp.Models;
using PeftSharp.Models.Heads;
using PeftSharp.Modules;
using PeftSharp.Tests.Models;
using PeftSharp.Training;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.Lora;
using PeftSharp.Tuners.Selection;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Training;

/// <summary>Activation checkpointing gives the plain model's loss and gradients, with dropout on, in every family.</summary>
[Collection(GlobalTorchStateCollection.Name)]
public class ActivationCheckpointTests
{
    public static IEnumerable<object[]> Cases() =>
        from type in new[] { "llama", "gpt2", "bert", "distilbert" }
        from method in new[] { "lora", "full" }
        select new object[] { type, method };

    static PeftModel Build(string modelType, string method)
    {
        var model = TinyModels.Create(modelType, ModelTask.SequenceClassification);
        manual_seed(5);
        // LoRA dropout gives Llama (whose config has no dropout) random masks inside its blocks too.
        return PeftModel.Create(model, method == "lora"
            ? new LoraConfig { R = 4, LoraAlpha = 8, LoraDropout = 0.2, Targets = new TargetPatterns { Names = new[] { TargetPatterns.AllLinear } } }
            : new PartialFineTuningConfig { Full = true });
    }

    /// <summary>Loss and every trainable parameter's gradient after one forward and backward pass from generator seed 9.</summary>
    static (double Loss, Dictionary<string, Tensor> Grads, byte[] GeneratorAfter) LossAndGrads(PeftModel model, bool checkpointing)
    {
        model.Model.GradientCheckpointing = checkpointing;
        model.train();
        var ids = TinyModels.RandomIds(3, 7);
        var mask = ones(3, 7, ScalarType.Int64);
        mask[2, TensorIndex.Slice(5)] = zeros(2, ScalarType.Int64);             // some padding
        manual_seed(9);
        var logits = model.call(new ModelInputs { InputIds = ids, AttentionMask = mask }).Logits!;
        var loss = nn.functional.cross_entropy(logits, tensor(new long[] { 0, 1, 2 }));
        loss.backward();
        var grads = model.named_parameters().Where(p => p.parameter.requires_grad)
            .ToDictionary(p => p.name, p => p.parameter.grad?.clone() ?? zeros_like(p.parameter));
        foreach (var p in model.parameters()) p.grad = null;
        return (loss.item<float>(), grads, RandomState.Capture());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CheckpointedBlocksGiveThePlainLossAndGradients(string modelType, string method)
    {
        var model = Build(modelType, method);
        var plain = LossAndGrads(model, checkpointing: false);
        var checkpointed = LossAndGrads(model, checkpointing: true);
        Assert.True(Math.Abs(plain.Loss - checkpointed.Loss) < 1e-6, $"loss {plain.Loss} plain, {checkpointed.Loss} checkpointed");
        Assert.NotEmpty(plain.Grads);
        foreach (var (name, grad) in plain.Grads)
        {
            double diff = Fixtures.MaxAbsDiff(grad, checkpointed.Grads[name]);
            Assert.True(diff < 1e-6, $"{modelType}/{method}: gradient of {name} differs by {diff}");
        }
        foreach (string block in new[] { ".0.", ".1." })                      // both blocks' parameters got gradients
            Assert.Contains(plain.Grads, g => g.Key.Contains(block) && g.Value.abs().sum().item<float>() > 0);
        Assert.Equal(plain.GeneratorAfter, checkpointed.GeneratorAfter);      // recomputation leaves the random stream where it was

        // Dropout really drew masks: another seed gives another loss.
        model.Model.GradientCheckpointing = false;
        manual_seed(10);
        var other = nn.functional.cross_entropy(model.call(new ModelInputs { InputIds = TinyModels.RandomIds(3, 7) }).Logits!, tensor(new long[] { 0, 1, 2 }));
        Assert.True(Math.Abs(plain.Loss - other.item<float>()) > 1e-4);
    }

    [Fact]
    public void TheFlagReachesTheBackboneAndTheTrainerSetsIt()
    {
        var model = (HeadModel)TinyModels.Create("gpt2", ModelTask.SequenceClassification);
        model.GradientCheckpointing = true;
        Assert.True(model.Backbone.GradientCheckpointing);
        model.GradientCheckpointing = false;
        Assert.False(model.Backbone.GradientCheckpointing);

        var peft = ToyModels.Lora("gpt2");
        new Trainer(peft, new ClassificationObjective(), new TokenPresenceData(16, 8), new TrainingOptions { MaxSteps = 1, GradientCheckpointing = true }).Train();
        Assert.True(peft.Model.GradientCheckpointing);
        Assert.True(((HeadModel)peft.Model).Backbone.GradientCheckpointing);
    }

    [Fact]
    public void TrainingWithCheckpointingEndsWhereTrainingWithoutDoes()
    {
        Dictionary<string, Tensor> Run(bool checkpointing)
        {
            var model = ToyModels.Lora("bert", loraDropout: 0.1);
            var options = new TrainingOptions { LearningRate = 5e-3, MaxSteps = 4, GradientCheckpointing = checkpointing };
            new Trainer(model, new ClassificationObjective(), new TokenPresenceData(32, 8), options).Train();
            return ToyModels.Trainable(model);
        }
        var plain = Run(false);
        var checkpointed = Run(true);
        foreach (var (name, value) in plain)
            Assert.True(ToyModels.Identical(value, checkpointed[name]), $"{name} differs by {Fixtures.MaxAbsDiff(value, checkpointed[name])}");
    }

    [Fact]
    public void CheckpointingRefusesAKvCacheButNotInEvaluation()
    {
        var model = TinyModels.Create("llama", ModelTask.CausalLM);
        model.GradientCheckpointing = true;
        model.train();
        var ids = TinyModels.RandomIds(1, 4);
        using var cache = new KvCache(model.LayerCount);
        var error = Assert.Throws<InvalidOperationException>(() => model.call(new ModelInputs { InputIds = ids, Cache = cache }));
        Assert.Contains("KV cache", error.Message);
        Assert.Contains("GradientCheckpointing", error.Message);

        using (no_grad()) model.call(new ModelInputs { InputIds = ids, Cache = new KvCache(model.LayerCount) });
        model.eval();
        model.call(new ModelInputs { InputIds = ids, Cache = new KvCache(model.LayerCount) });
    }
}
