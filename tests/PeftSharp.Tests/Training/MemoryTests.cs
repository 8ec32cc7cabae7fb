using PeftSharp.Models;
using PeftSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Training;

/// <summary>Every step releases what it made: the count of live TorchSharp tensors on the training thread stays flat.</summary>
[Collection(GlobalTorchStateCollection.Name)]
public class MemoryTests
{
    /// <summary>A minimal classifier (embedding, mean over tokens, linear), so thousands of steps take a second or two.</summary>
    sealed class BagOfTokens : nn.Module<ModelInputs, ModelOutputs>
    {
        readonly TorchSharp.Modules.Embedding embedding;
        readonly TorchSharp.Modules.Linear classifier;

        public BagOfTokens() : base(nameof(BagOfTokens))
        {
            var generator = new Generator(3);
            embedding = nn.Embedding(64, 16);
            classifier = nn.Linear(16, 2);
            using (no_grad()) embedding.weight!.normal_(0, 0.1, generator);
            RegisterComponents();
        }

        public override ModelOutputs forward(ModelInputs inputs)
        {
            using var scope = NewDisposeScope();
            var pooled = embedding.call(inputs.InputIds!).mean(new long[] { 1 });
            return new ModelOutputs { LastHiddenState = pooled.MoveToOuterDisposeScope(), Logits = classifier.call(pooled).MoveToOuterDisposeScope() };
        }
    }

    static long Live => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    /// <summary>
    /// Runs libtorch's intra-op work on the calling thread until disposed. Thousands of tiny steps are otherwise dominated
    /// by OpenMP fork/join, which on oversubscribed cores (a shared CI machine) made this test twenty times slower.
    /// </summary>
    static IDisposable SingleThreaded()
    {
        int previous = get_num_threads();
        set_num_threads(1);
        return new Restore(() => set_num_threads(previous));
    }

    sealed class Restore(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    [Fact]
    public void TwoThousandStepsLeaveTheLiveTensorCountFlat()
    {
        using var _ = SingleThreaded();
        var counts = new Dictionary<long, long>();
        var options = new TrainingOptions { LearningRate = 1e-2, MaxSteps = 2000, EvalSteps = 500, LoggingSteps = 100 };
        var evaluator = new AccuracyEvaluator(new TokenPresenceData(16, 8, dataSeed: 5, shuffle: false));
        var trainer = new Trainer(new BagOfTokens(), new ClassificationObjective(), new TokenPresenceData(64, 8), options, evaluator);
        var result = trainer.Train(new SyncProgress<TrainingProgress>(p => counts[p.Step] = Live));
        Assert.Equal(2000, result.Steps);
        // The first evaluation (step 500) keeps a snapshot of the best parameters: three tensors that live to the end.
        Assert.Equal(counts[100] + 3, counts[500]);
        Assert.All(counts.Where(c => c.Key < 500), c => Assert.Equal(counts[100], c.Value));
        Assert.All(counts.Where(c => c.Key >= 500), c => Assert.Equal(counts[500], c.Value));
    }

    [Fact]
    public void CheckpointedTransformerStepsLeaveTheLiveTensorCountFlat()
    {
        using var _ = SingleThreaded();
        var counts = new Dictionary<long, long>();
        var model = ToyModels.Lora("llama");
        var options = new TrainingOptions { MaxSteps = 60, GradientCheckpointing = true, LoggingSteps = 10 };
        new Trainer(model, new ClassificationObjective(), new TokenPresenceData(32, 8), options).Train(new SyncProgress<TrainingProgress>(p => counts[p.Step] = Live));
        Assert.All(counts.Values, c => Assert.Equal(counts[10], c));
    }
}
