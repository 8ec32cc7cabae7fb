using PeftSharp.Models;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.IA3;
using PeftSharp.Tuners.Lora;
using static PeftSharp.Tests.Tuners.TunerTesting;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners;

/// <summary>PeftModel.AddWeightedAdapter: PEFT's combination types checked against the deltas they must produce.</summary>
public class LoraCombinationTests
{
    static readonly Tensor Ids = TinyModels.RandomIds(2, 6);

    /// <summary>A tiny Llama with LoRA "a" (r 4, alpha 8) and "b" (r 2, rsLoRA alpha 3), both non-identity.</summary>
    static PeftModel TwoAdapters(int rankB = 2, string modelType = "llama", ModelTask task = ModelTask.CausalLM)
    {
        var peft = PeftModel.Create(TinyModels.Create(modelType, task), new LoraConfig { R = 4, LoraAlpha = 8, InitLoraWeights = "false" }, "a");
        peft.AddAdapter("b", new LoraConfig { R = rankB, LoraAlpha = 3, UseRsLora = true, InitLoraWeights = "false" });
        return peft;
    }

    /// <summary>Largest difference relative to the largest expected value (float32 SVDs are exact to about 1e-6 of that).</summary>
    static double Relative(Tensor actual, Tensor expected) => Fixtures.MaxAbsDiff(actual, expected) / expected.abs().max().to(ScalarType.Float64).item<double>();

    /// <summary>Largest relative difference, over all LoRA layers, between the new adapter's delta and <paramref name="expected"/>.</summary>
    static double DeltaError(PeftModel peft, string name, Func<LoraLayer, Tensor> expected) =>
        LoraLayers(peft).Values.Max(layer => Relative(layer.DeltaWeight(name), expected(layer)));

    [Fact]
    public void CatOfTwoAdaptersWithWeightOneEqualsBothActive()
    {
        var peft = TwoAdapters();
        var config = peft.AddWeightedAdapter(new[] { "a", "b" }, new[] { 1.0, 1.0 }, "ab", "cat");
        Assert.Equal(6, config.R);
        Assert.Equal(6, config.LoraAlpha);
        Assert.False(config.UseRsLora);
        peft.SetAdapter("a", "b");
        var both = Output(peft, Ids);
        peft.SetAdapter("ab");
        double diff = Fixtures.MaxAbsDiff(Output(peft, Ids), both);
        Assert.True(diff < 1e-5, $"cat differs from both adapters active by {diff}");
        Assert.Equal(new long[] { 6, 32 }, Factors(LoraLayers(peft)["model.layers.0.self_attn.q_proj"], "ab").A.shape);
    }

    [Fact]
    public void CatIsTheWeightedSumOfDeltas()
    {
        var peft = TwoAdapters();
        peft.AddWeightedAdapter(new[] { "a", "b" }, new[] { 0.7, -1.3 }, "ab", "cat");
        Assert.True(DeltaError(peft, "ab", l => 0.7 * l.DeltaWeight("a") - 1.3 * l.DeltaWeight("b")) < 1e-5);
    }

    [Theory]
    [InlineData("linear")]
    [InlineData("svd")]
    [InlineData("ties")]
    public void OneAdapterIsCombinedLinearlyAndScalesItsDelta(string combination)
    {
        var peft = TwoAdapters();
        var config = peft.AddWeightedAdapter(new[] { "b" }, new[] { -0.5 }, "half", combination, density: 0.5);
        Assert.Equal(2, config.R);
        Assert.True(DeltaError(peft, "half", l => -0.5 * l.DeltaWeight("b")) < 1e-6);
    }

    [Fact]
    public void LinearMergesAAndBSeparatelyWithSquareRootWeights()
    {
        var peft = TwoAdapters(rankB: 4);
        double[] weights = { 0.6, -0.8 };
        peft.AddWeightedAdapter(new[] { "a", "b" }, weights, "lin", "linear");
        foreach (var layer in LoraLayers(peft).Values)
        {
            var (a1, b1) = Factors(layer, "a");
            var (a2, b2) = Factors(layer, "b");
            double ws1 = weights[0] * layer.Settings("a").Scaling, ws2 = weights[1] * layer.Settings("b").Scaling;
            // PEFT: A weights carry the sign, B weights do not.
            var a = Math.Sqrt(ws1) * a1 - Math.Sqrt(-ws2) * a2;
            var b = Math.Sqrt(ws1) * b1 + Math.Sqrt(-ws2) * b2;
            var (actualA, actualB) = Factors(layer, "lin");
            Assert.True(Fixtures.MaxAbsDiff(actualA, a) < 1e-6);
            Assert.True(Fixtures.MaxAbsDiff(actualB, b) < 1e-6);
            Assert.True(Fixtures.MaxAbsDiff(layer.DeltaWeight("lin"), b.matmul(a)) < 1e-5, "scaling of the combined adapter is 1");
        }
    }

    [Fact]
    public void SvdAtFullRankEqualsTheWeightedDeltaSum()
    {
        var peft = TwoAdapters();
        var config = peft.AddWeightedAdapter(new[] { "a", "b" }, new[] { 0.7, -1.3 }, "s", "svd", svdRank: 6);
        Assert.Equal(6, config.R);
        Assert.True(DeltaError(peft, "s", l => 0.7 * l.DeltaWeight("a") - 1.3 * l.DeltaWeight("b")) < 1e-5);
    }

    [Fact]
    public void SvdAtLowerRankIsTheBestApproximation()
    {
        var peft = TwoAdapters();
        var config = peft.AddWeightedAdapter(new[] { "a", "b" }, new[] { 0.7, -1.3 }, "s", "svd");
        Assert.Equal(4, config.R);                                              // the largest rank of the adapters
        foreach (var layer in LoraLayers(peft).Values)
        {
            var sum = 0.7 * layer.DeltaWeight("a") - 1.3 * layer.DeltaWeight("b");
            var (u, s, vh) = linalg.svd(sum.to(ScalarType.Float64), fullMatrices: false);
            var best = (u.narrow(1, 0, 4) * s.narrow(0, 0, 4)).matmul(vh.narrow(0, 0, 4));
            var delta = layer.DeltaWeight("s");
            Assert.True(Relative(delta, best) < 1e-5, $"not the rank-4 truncation ({Relative(delta, best)})");
            // Eckart-Young: the error is the norm of the dropped singular values, and not zero here.
            double error = linalg.norm(sum.to(ScalarType.Float64) - delta.to(ScalarType.Float64)).item<double>();
            double dropped = s.narrow(0, 4, 2).square().sum().sqrt().item<double>();
            Assert.True(Math.Abs(error - dropped) < 1e-5 * s[0].item<double>() && dropped > 1e-3);
        }
    }

    [Fact]
    public void SvdClampBoundsTheFactorsByTheirQuantile()
    {
        var peft = TwoAdapters();
        peft.AddWeightedAdapter(new[] { "a", "b" }, new[] { 1.0, 1.0 }, "plain", "svd");
        peft.AddWeightedAdapter(new[] { "a", "b" }, new[] { 1.0, 1.0 }, "clamped", "svd", svdClamp: 0.9);
        var layer = LoraLayers(peft)["model.layers.1.self_attn.v_proj"];
        var (a, b) = Factors(layer, "plain");
        var sorted = cat(new[] { b.flatten(), a.flatten() }, 0).sort().Values;
        double position = 0.9 * (sorted.shape[0] - 1);
        long low = (long)Math.Floor(position);
        double high = sorted[low].item<float>() + (position - low) * (sorted[low + 1].item<float>() - sorted[low].item<float>());
        var (clampedA, clampedB) = Factors(layer, "clamped");
        Assert.True(Fixtures.MaxAbsDiff(clampedA, a.clamp(-high, high)) < 1e-6);
        Assert.True(Fixtures.MaxAbsDiff(clampedB, b.clamp(-high, high)) < 1e-6);
        Assert.True(Fixtures.MaxAbsDiff(clampedB, b) > 0, "the clamp changed something");
    }

    [Fact]
    public void TiesAndDareApplyMergeUtilsToTheFactorLists()
    {
        var peft = TwoAdapters(rankB: 4);
        double[] weights = { 0.6, 0.9 };
        peft.AddWeightedAdapter(new[] { "a", "b" }, weights, "ties", "ties", density: 0.5, majoritySignMethod: "frequency");
        peft.AddWeightedAdapter(new[] { "a", "b" }, weights, "dare1", "dare_ties", density: 0.5, seed: 11);
        peft.AddWeightedAdapter(new[] { "a", "b" }, weights, "dare2", "dare_ties", density: 0.5, seed: 11);
        peft.AddWeightedAdapter(new[] { "a", "b" }, weights, "dare3", "dare_ties", density: 0.5, seed: 12);
        foreach (var layer in LoraLayers(peft).Values)
        {
            var (a1, b1) = Factors(layer, "a");
            var (a2, b2) = Factors(layer, "b");
            var root = weights.Select((w, i) => Math.Sqrt(w * layer.Settings(i == 0 ? "a" : "b").Scaling)).ToList();
            var (a, b) = Factors(layer, "ties");
            Assert.True(Fixtures.MaxAbsDiff(a, TaskMerging.Merge("ties", new[] { a1, a2 }, root, 0.5, "frequency")) < 1e-6);
            Assert.True(Fixtures.MaxAbsDiff(b, TaskMerging.Merge("ties", new[] { b1, b2 }, root, 0.5, "frequency")) < 1e-6);
            Assert.True(Fixtures.MaxAbsDiff(Factors(layer, "dare1").A, Factors(layer, "dare2").A) == 0, "one seed, one result");
            Assert.True(Fixtures.MaxAbsDiff(Factors(layer, "dare1").B, Factors(layer, "dare2").B) == 0);
            Assert.True(Fixtures.MaxAbsDiff(Factors(layer, "dare1").A, Factors(layer, "dare3").A) > 0, "another seed, another result");
        }
    }

    [Fact]
    public void EmbeddingLayersCombineToo()
    {
        var targets = new TargetPatterns { Names = new[] { "embed_tokens", "q_proj" } };
        var peft = PeftModel.Create(TinyModels.Create("llama", ModelTask.CausalLM), new LoraConfig { R = 2, LoraAlpha = 4, InitLoraWeights = "false", Targets = targets }, "a");
        peft.AddAdapter("b", new LoraConfig { R = 3, LoraAlpha = 3, InitLoraWeights = "false", Targets = targets });
        peft.AddWeightedAdapter(new[] { "a", "b" }, new[] { 1.0, 1.0 }, "cat", "cat");
        peft.AddWeightedAdapter(new[] { "a", "b" }, new[] { 1.0, 1.0 }, "svd", "svd", svdRank: 5);
        peft.SetAdapter("a", "b");
        var both = Output(peft, Ids);
        foreach (string combined in new[] { "cat", "svd" })
        {
            peft.SetAdapter(combined);
            double diff = Fixtures.MaxAbsDiff(Output(peft, Ids), both);
            Assert.True(diff < 1e-4, $"{combined} differs from both adapters by {diff}");
        }
        var embedding = (LoraEmbedding)ModuleTree.Get(peft.Model, "model.embed_tokens");
        double deltaDiff = Relative(embedding.DeltaWeight("svd"), embedding.DeltaWeight("a") + embedding.DeltaWeight("b"));
        Assert.True(deltaDiff < 1e-5, $"svd delta differs by {deltaDiff}");
    }

    [Theory]
    [InlineData("cat")]
    [InlineData("svd")]
    [InlineData("dare_linear")]
    public void CombinedAdapterSavesLoadsAndMerges(string combination)
    {
        var peft = TwoAdapters(rankB: 4);
        peft.AddWeightedAdapter(new[] { "a", "b" }, new[] { 0.8, 0.5 }, "mix", combination, density: 0.7, seed: 3);
        peft.SetAdapter("mix");
        var expected = Output(peft, Ids);
        using var dir = Fixtures.TempDir();
        peft.SaveAdapter(dir.Path, "mix");
        var saved = Fixtures.ReadTensors(dir.File(AdapterFiles.WeightsFile));
        Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", saved.Keys);
        var config = (LoraConfig)PeftMethods.ReadConfig(dir.File(AdapterFiles.ConfigFile));
        Assert.Equal(config.R, config.LoraAlpha);
        var loaded = PeftModel.Load(TinyModels.Create("llama", ModelTask.CausalLM), dir.Path);
        Assert.True(Fixtures.MaxAbsDiff(Output(loaded, Ids), expected) < 1e-5, "reloaded combination differs");
        peft.Merge();
        Assert.True(Fixtures.MaxAbsDiff(Output(peft, Ids), expected) < 1e-4, "merged combination differs");
    }

    [Fact]
    public void ClassifierHeadsOfSeveralAdaptersAreRefusedAndOneAdaptersHeadIsCarried()
    {
        // For sequence classification every adapter trains its own classifier copy (modules_to_save), which PEFT refuses to combine.
        var peft = PeftModel.Create(TinyModels.Create("bert", ModelTask.SequenceClassification), new LoraConfig { R = 2, LoraAlpha = 2, InitLoraWeights = "false" }, "a");
        Train(peft, Ids);
        peft.AddAdapter("b", new LoraConfig { R = 2, LoraAlpha = 2, InitLoraWeights = "false" });
        var error = Assert.Throws<ArgumentException>(() => peft.AddWeightedAdapter(new[] { "a", "b" }, new[] { 1.0, 1.0 }, "ab", "cat"));
        Assert.Contains("copy of 'classifier'", error.Message);
        Assert.False(peft.Adapters.ContainsKey("ab"));

        var copy = peft.AddWeightedAdapter(new[] { "a" }, new[] { 1.0 }, "copy");
        Assert.Contains("classifier", copy.ModulesToSave!);
        peft.SetAdapter("a");
        var expected = Output(peft, Ids);
        peft.SetAdapter("copy");
        Assert.True(Fixtures.MaxAbsDiff(Output(peft, Ids), expected) < 1e-5, "the combination has adapter a's trained head");
    }

    public static IEnumerable<object[]> BadCombinations()
    {
        yield return new object[] { (Action<PeftModel>)(p => p.AddWeightedAdapter(new[] { "a", "b" }, new[] { 1.0, 1.0 }, "x", "average")), "unknown combination 'average'" };
        yield return new object[] { (Action<PeftModel>)(p => p.AddWeightedAdapter(new[] { "a", "b" }, new[] { 1.0, 1.0 }, "x", "linear")), "one rank" };
        yield return new object[] { (Action<PeftModel>)(p => p.AddWeightedAdapter(new[] { "a", "nope" }, new[] { 1.0, 1.0 }, "x", "cat")), "no adapter named 'nope'" };
        yield return new object[] { (Action<PeftModel>)(p => p.AddWeightedAdapter(new[] { "a", "b" }, new[] { 1.0 }, "x", "cat")), "1 weight(s) for 2 adapter(s)" };
        yield return new object[] { (Action<PeftModel>)(p => p.AddWeightedAdapter(new[] { "a", "b" }, new[] { 1.0, 1.0 }, "a", "cat")), "already exists" };
        yield return new object[] { (Action<PeftModel>)(p => p.AddWeightedAdapter(new[] { "a", "b" }, new[] { 1.0, 1.0 }, "x", "dare_ties")), "needs a density" };
        yield return new object[] { (Action<PeftModel>)(p => p.AddWeightedAdapter(new[] { "a", "b" }, new[] { 1.0, 1.0 }, "x", "ties", density: 0.5, majoritySignMethod: "mean")), "'total' or 'frequency'" };
        yield return new object[] { (Action<PeftModel>)(p => p.AddWeightedAdapter(new[] { "a", "q" }, new[] { 1.0, 1.0 }, "x", "cat")), "'model.layers.0.self_attn.v_proj' carries a but not q" };
        yield return new object[] { (Action<PeftModel>)(p => p.AddWeightedAdapter(new[] { "a", "dora" }, new[] { 1.0, 1.0 }, "x", "cat")), "'dora' is DoRA" };
        yield return new object[] { (Action<PeftModel>)(p => p.AddWeightedAdapter(new[] { "a", "ia3" }, new[] { 1.0, 1.0 }, "x", "cat")), "'ia3' is IA3" };
        yield return new object[] { (Action<PeftModel>)(p => p.AddWeightedAdapter(new[] { "a", "pissa" }, new[] { 1.0, 1.0 }, "x", "cat")), "rewrote the base weights" };
    }

    [Theory]
    [MemberData(nameof(BadCombinations))]
    public void BadCombinationsAreRefusedAndAddNothing(Action<PeftModel> combine, string message)
    {
        var peft = TwoAdapters();
        peft.AddAdapter("q", new LoraConfig { R = 2, Targets = new TargetPatterns { Names = new[] { "q_proj" } } });
        peft.AddAdapter("dora", new LoraConfig { R = 2, UseDora = true });
        peft.AddAdapter("ia3", new IA3Config { Targets = new TargetPatterns { Names = new[] { "down_proj" } }, FeedforwardModules = new TargetPatterns { Names = new[] { "down_proj" } } });
        peft.AddAdapter("pissa", new LoraConfig { R = 2, InitLoraWeights = "pissa", Targets = new TargetPatterns { Names = new[] { "k_proj" } } });
        var before = peft.Adapters.Keys.ToList();
        var error = Assert.Throws<ArgumentException>(() => combine(peft));
        Assert.Contains(message, error.Message);
        Assert.Equal(before, peft.Adapters.Keys.ToList());
        Assert.DoesNotContain(peft.AdapterModules(), m => m.Module.AdapterNames.Contains("x"));
    }
}
