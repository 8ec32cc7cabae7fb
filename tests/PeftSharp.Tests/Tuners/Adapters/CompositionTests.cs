using PeftSharp.Models;
using PeftSharp.Modules;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Adapters;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.IA3;
using PeftSharp.Tuners.Lora;
using static PeftSharp.Tests.Tuners.Adapters.AdapterTesting;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners.Adapters;

/// <summary>Stack, Average, Parallel and BatchSplit over bottleneck adapters and over LoRA/IA3, and their errors.</summary>
public class CompositionTests
{
    const double Tolerance = 1e-5;

    /// <summary>a: Pfeiffer with an invertible adapter, b: Houlsby, c: parallel; all moved off their identity start.</summary>
    static PeftModel ThreeAdapters(string modelType, ModelTask task)
    {
        var peft = PeftModel.Create(TinyModels.Create(modelType, task), BottleneckConfig.Pfeiffer() with { InvAdapter = "nice" }, "a");
        peft.AddAdapter("b", BottleneckConfig.Houlsby());
        peft.AddAdapter("c", BottleneckConfig.Parallel());
        Scramble(peft, "a", 1);
        Scramble(peft, "b", 2);
        Scramble(peft, "c", 3);
        return peft;
    }

    static Tensor Run(PeftModel peft, AdapterComposition setup, Tensor ids)
    {
        peft.SetComposition(setup);
        return Output(peft, ids);
    }

    [Theory]
    [MemberData(nameof(TinyModels.Cases), MemberType = typeof(TinyModels))]
    public void ParallelOutputsEqualEachBranchAlone(string modelType, ModelTask task)
    {
        var peft = ThreeAdapters(modelType, task);
        var ids = TinyModels.RandomIds(2, 6);
        var a = Run(peft, "a", ids);
        var b = Run(peft, "b", ids);
        var stacked = Run(peft, Compose.Stack("a", "c"), ids);
        Assert.True(Fixtures.MaxAbsDiff(a, b) > 1e-3 && Fixtures.MaxAbsDiff(a, stacked) > 1e-3, "branches must differ for the test to mean anything");

        var all = Run(peft, Compose.Parallel("a", "b", Compose.Stack("a", "c")), ids);
        Assert.Equal(6, all.shape[0]);
        Assert.True(Fixtures.MaxAbsDiff(all.narrow(0, 0, 2), a) < Tolerance, $"{modelType} {task}: branch a differs");
        Assert.True(Fixtures.MaxAbsDiff(all.narrow(0, 2, 2), b) < Tolerance, $"{modelType} {task}: branch b differs");
        Assert.True(Fixtures.MaxAbsDiff(all.narrow(0, 4, 2), stacked) < Tolerance, $"{modelType} {task}: branch Stack[a, c] differs");
    }

    [Theory]
    [MemberData(nameof(TinyModels.Cases), MemberType = typeof(TinyModels))]
    public void BatchSplitRowsEqualEachAdaptersOwn(string modelType, ModelTask task)
    {
        var peft = ThreeAdapters(modelType, task);
        var ids = TinyModels.RandomIds(3, 6);
        var a = Run(peft, "a", ids);
        var c = Run(peft, "c", ids);
        var split = Run(peft, Compose.BatchSplit(("a", 2), ("c", 1)), ids);
        Assert.Equal(3, split.shape[0]);
        Assert.True(Fixtures.MaxAbsDiff(split.narrow(0, 0, 2), a.narrow(0, 0, 2)) < Tolerance, $"{modelType} {task}: rows of a differ");
        Assert.True(Fixtures.MaxAbsDiff(split[2], c[2]) < Tolerance, $"{modelType} {task}: row of c differs");
        var error = Assert.Throws<ArgumentException>(() => Output(peft, TinyModels.RandomIds(4, 6)));
        Assert.Equal("batch_sizes", error.ParamName);
    }

    [Fact]
    public void StackAppliesAdaptersInSequenceAtEverySite()
    {
        var peft = ThreeAdapters("bert", ModelTask.SequenceClassification);
        peft.SetComposition(Compose.Stack("a", "b", "c"));
        var layer = Handler<BottleneckAdapterLayer>(peft, SiteKind.FeedForwardOutput, BottleneckAdapterLayer.HandlerName);
        var (h, x) = (randn(2, 4, 32), randn(2, 4, 32));
        using (no_grad())
        {
            var h1 = h + layer.Adapter("a").call(h);
            var h2 = h1 + layer.Adapter("b").call(h1);
            var h3 = h2 + layer.Adapter("c").call(x);
            Assert.True(Fixtures.MaxAbsDiff(layer.call(h, x), h3) < Tolerance);
        }
        var ids = TinyModels.RandomIds(2, 6);
        Assert.True(Fixtures.MaxAbsDiff(Run(peft, Compose.Stack("a", "b"), ids), Run(peft, Compose.Stack("b", "a"), ids)) > 1e-4, "order matters in a stack");
    }

    [Fact]
    public void AverageIsTheWeightedMeanOfTheOutputsAtEverySite()
    {
        var peft = ThreeAdapters("gpt2", ModelTask.CausalLM);
        var average = Compose.Average(("a", 7), ("c", 3));
        Assert.Equal(new[] { 0.7, 0.3 }, average.Weights);
        peft.SetComposition(average);
        var layer = Handler<BottleneckAdapterLayer>(peft, SiteKind.FeedForwardOutput, BottleneckAdapterLayer.HandlerName);
        var (h, x) = (randn(2, 4, 32), randn(2, 4, 32));
        using var _ = no_grad();
        var expected = 0.7 * (h + layer.Adapter("a").call(h)) + 0.3 * (h + layer.Adapter("c").call(x));
        Assert.True(Fixtures.MaxAbsDiff(layer.call(h, x), expected) < Tolerance);
    }

    [Fact]
    public void AverageOverLoraIsTheWeightedSumOfTheUpdates()
    {
        var peft = PeftModel.Create(TinyModels.Create("llama", ModelTask.CausalLM), new LoraConfig { R = 4, LoraAlpha = 8 }, "a");
        peft.AddAdapter("b", new LoraConfig { R = 2, LoraAlpha = 2, Targets = new TargetPatterns { Names = new[] { "q_proj", "k_proj" } } });
        Scramble(peft, "a", 1);
        Scramble(peft, "b", 2);
        peft.SetComposition(Compose.Average(("a", 0.7), ("b", 0.3)));
        var x = randn(2, 3, 32);
        using var _ = no_grad();
        foreach (var (path, module) in peft.AdapterModules().Where(m => m.Module is LoraLayer))
        {
            var layer = (LoraLayer)module;
            var expected = layer.base_layer.call(x);
            foreach (var (adapter, weight) in new[] { ("a", 0.7), ("b", 0.3) })
                if (layer.AdapterNames.Contains(adapter)) expected = expected + weight * x.matmul(layer.DeltaWeight(adapter).t());
            Assert.True(Fixtures.MaxAbsDiff(layer.call(x), expected) < Tolerance, $"{path} is not base + 0.7 delta_a + 0.3 delta_b");
        }
        peft.SetAdapter("a");
        Assert.All(peft.AdapterModules().Select(m => m.Module).OfType<AdapterLayer>(), l => Assert.Null(l.AdapterWeights));
    }

    [Fact]
    public void AverageOverIA3InterpolatesTheVectors()
    {
        var peft = PeftModel.Create(TinyModels.Create("llama", ModelTask.CausalLM), new IA3Config(), "a");
        peft.AddAdapter("b", new IA3Config());
        Scramble(peft, "a", 1);
        Scramble(peft, "b", 2);
        peft.SetComposition(Compose.Average(("a", 0.25), ("b", 0.75)));
        var layer = peft.AdapterModules().Select(m => m.Module).OfType<IA3Layer>().First(l => !l.IsFeedforward);
        var l = (0.25 * layer.AdapterParameters("a").Single() + 0.75 * layer.AdapterParameters("b").Single()).flatten();
        var x = randn(2, 3, 32);
        using var _ = no_grad();
        Assert.True(Fixtures.MaxAbsDiff(layer.call(x), layer.base_layer.call(x) * l) < Tolerance);
    }

    [Fact]
    public void ParallelAndBatchSplitRouteLoraAndBottleneckAdaptersTogether()
    {
        var peft = PeftModel.Create(TinyModels.Create("gpt2", ModelTask.SequenceClassification), new LoraConfig { R = 4 }, "lora");
        peft.AddAdapter("bottleneck", BottleneckConfig.Houlsby());
        Scramble(peft, "lora", 1);
        Scramble(peft, "bottleneck", 2);
        var ids = TinyModels.RandomIds(2, 6);
        var lora = Run(peft, "lora", ids);
        var bottleneck = Run(peft, "bottleneck", ids);
        var parallel = Run(peft, Compose.Parallel("bottleneck", "lora"), ids);
        Assert.True(Fixtures.MaxAbsDiff(parallel.narrow(0, 0, 2), bottleneck) < Tolerance);
        Assert.True(Fixtures.MaxAbsDiff(parallel.narrow(0, 2, 2), lora) < Tolerance);
        var split = Run(peft, Compose.BatchSplit(("lora", 1), ("bottleneck", 1)), ids);
        Assert.True(Fixtures.MaxAbsDiff(split[0], lora[0]) < Tolerance);
        Assert.True(Fixtures.MaxAbsDiff(split[1], bottleneck[1]) < Tolerance);
        Assert.Null(AdapterRouting.Current);
    }

    [Fact]
    public void CompositionHoldsUntilTheActiveAdaptersChangeAndTrainsOnlyWhatItNames()
    {
        var peft = ThreeAdapters("distilbert", ModelTask.SequenceClassification);
        peft.SetComposition(Compose.Stack("a", "b"), train: "b");
        Assert.Equal("Stack[a, b]", peft.ActiveComposition()!.ToString());
        var trainable = peft.parameters().Where(p => p.requires_grad).Select(p => p.Handle).ToHashSet();
        Assert.Equal(peft.AdapterParameters("b").Select(p => p.Handle).ToHashSet(), trainable);
        peft.SetComposition(Compose.Parallel("a", "c"));
        Assert.DoesNotContain(peft.parameters(), p => p.requires_grad);
        peft.SetAdapter("c");
        Assert.Equal("c", peft.ActiveComposition()!.ToString());
        Assert.Equal(2, Output(peft, TinyModels.RandomIds(2, 6)).shape[0]);
    }

    public static IEnumerable<object[]> BadCompositions() => new[]
    {
        new object[] { Compose.Stack("a", "missing"), "missing" },
        new object[] { Compose.Fuse("a", "b"), "no fusion over" },
        new object[] { Compose.Fuse("a", "lora"), "bottleneck adapters only" },
        new object[] { Compose.Stack("b", Compose.Average(("a", 1), ("lora", 1))), "whole composition" },
        new object[] { Compose.Stack(Compose.Stack("a", "b")), "cannot hold" },
        new object[] { Compose.Parallel(Compose.Stack("a", Compose.Parallel("a", "b"))), "too deep" },
        new object[] { Compose.Stack(Compose.Parallel("a", "b"), Compose.Parallel("a", "b", "c")), "same number of branches" },
    };

    [Theory]
    [MemberData(nameof(BadCompositions))]
    public void BadCompositionsAreRefusedBeforeAnythingChanges(AdapterComposition composition, string message)
    {
        var peft = ThreeAdapters("gpt2", ModelTask.CausalLM);
        peft.AddAdapter("lora", new LoraConfig());
        peft.SetAdapter("b");
        var error = Assert.Throws<ArgumentException>(() => peft.SetComposition(composition));
        Assert.Equal("composition", error.ParamName);
        Assert.Contains(message, error.Message);
        Assert.Equal(new[] { "b" }, peft.ActiveAdapters);
    }

    [Fact]
    public void BlocksNeedChildrenAndUsableWeights()
    {
        Assert.Throws<ArgumentException>(() => Compose.Stack());
        Assert.Throws<ArgumentException>(() => Compose.Average(("a", 1), ("b", -1)));
        Assert.Throws<ArgumentException>(() => Compose.Average(("a", double.NaN)));
        Assert.Throws<ArgumentException>(() => Compose.BatchSplit(("a", 0)));
        var peft = ThreeAdapters("llama", ModelTask.CausalLM);
        Assert.Equal("train", Assert.Throws<ArgumentException>(() => peft.SetComposition("a", train: "nope")).ParamName);
    }

    [Fact]
    public void ParallelRefusesMixedBatchRoutingAndKeyValueCaches()
    {
        var peft = ThreeAdapters("llama", ModelTask.CausalLM);
        peft.SetComposition(Compose.Parallel("a", "b"));
        var ids = TinyModels.RandomIds(2, 6);
        using (peft.RouteRows(new[] { "a", "b" }))
            Assert.Throws<InvalidOperationException>(() => Output(peft, ids));
        Assert.Throws<InvalidOperationException>(() => peft.call(new ModelInputs { InputIds = ids, Cache = new KvCache(peft.Model.LayerCount) }));
        Assert.Equal(4, Output(peft, ids).shape[0]);
        Assert.Throws<InvalidOperationException>(() => Output(peft.Model, TinyModels.RandomIds(3, 6)));
    }
}
