using PeftSharp.Models;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners;

/// <summary>The properties every method promises, run over every method, family and head.</summary>
public class MethodMatrixTests
{
    const double Tolerance = 1e-4;

    static Tensor Output(nn.Module<ModelInputs, ModelOutputs> model, Tensor ids, Tensor? mask = null)
    {
        using var _ = no_grad();
        var outputs = model.call(new ModelInputs { InputIds = ids, AttentionMask = mask });
        return outputs.Logits ?? outputs.LastHiddenState;
    }

    /// <summary>A model with the method attached, or null (after checking the clear error) where it has nothing to attach to.</summary>
    static PeftModel? Attach(string method, string modelType, ModelTask task, string name = "default", long seed = 7)
    {
        var model = TinyModels.Create(modelType, task, seed: seed);
        var config = MethodCases.Configs[method]();
        if (MethodCases.NotApplicable(method, modelType))
        {
            var error = Assert.Throws<ConfigException>(() => PeftModel.Create(model, config, name));
            Assert.Contains(model.Architecture, error.Message);
            return null;
        }
        return PeftModel.Create(model, config, name);
    }

    /// <summary>A few AdamW steps on a dummy loss, so the adapter moves away from its identity start.</summary>
    static void Train(PeftModel peft, Tensor ids, int steps = 3, double learningRate = 0.05)
    {
        peft.train();
        var trainable = peft.parameters().Where(p => p.requires_grad).ToList();
        Assert.NotEmpty(trainable);
        var optimizer = optim.AdamW(trainable, lr: learningRate);
        Tensor? direction = null;
        for (int i = 0; i < steps; i++)
        {
            optimizer.zero_grad();
            var outputs = peft.call(new ModelInputs { InputIds = ids });
            var target = outputs.Logits ?? outputs.LastHiddenState;
            // A fixed random direction: unlike sums of squares it is not invariant to the scale a final LayerNorm removes.
            direction ??= randn(target.shape, generator: new Generator(5));
            var loss = (target * direction).sum();
            loss.backward();
            optimizer.step();
        }
        peft.eval();
    }

    [Theory]
    [MemberData(nameof(MethodCases.All), MemberType = typeof(MethodCases))]
    public void StartsAsTheBaseModel(string method, string modelType, ModelTask task)
    {
        var ids = TinyModels.RandomIds(2, 6);
        var expected = Output(TinyModels.Create(modelType, task), ids);
        var peft = Attach(method, modelType, task);
        if (peft is null) return;
        double diff = Fixtures.MaxAbsDiff(Output(peft, ids), expected);
        if (!MethodCases.IdentityAtInit(method))
        {
            Assert.True(diff > 1e-4, $"{method} on {modelType} {task}: a random prompt must change the output");
            return;
        }
        Assert.True(diff < (MethodCases.ChangesBase(method) ? 1e-3 : 1e-6), $"{method} on {modelType} {task}: output moved by {diff} at init");
    }

    [Theory]
    [MemberData(nameof(MethodCases.All), MemberType = typeof(MethodCases))]
    public void TrainingChangesOnlyTheAdapterAndModulesToSave(string method, string modelType, ModelTask task)
    {
        var peft = Attach(method, modelType, task);
        if (peft is null) return;
        var ids = TinyModels.RandomIds(2, 6);
        var before = Output(peft, ids);
        var frozen = peft.named_parameters().Where(p => !p.parameter.requires_grad).Select(p => (p.name, Copy: p.parameter.detach().clone())).ToList();
        var adapterParameters = peft.AdapterParameters("default").Select(p => p.Handle).ToHashSet();
        Assert.All(peft.parameters().Where(p => p.requires_grad), p => Assert.Contains(p.Handle, adapterParameters));
        Train(peft, ids);
        foreach (var (name, copy) in frozen)
            Assert.True(copy.equal(peft.get_parameter(name)!).all().item<bool>(), $"{method}: frozen parameter {name} changed");
        Assert.True(Fixtures.MaxAbsDiff(Output(peft, ids), before) > 1e-4, $"{method}: training did not change the output");
        var report = peft.TrainableParameters();
        Assert.InRange(report.Percent, 0.0001, method == "full" ? 51 : 50);
    }

    [Theory]
    [MemberData(nameof(MethodCases.All), MemberType = typeof(MethodCases))]
    public void MergedEqualsUnmergedEqualsUnloaded(string method, string modelType, ModelTask task)
    {
        var peft = Attach(method, modelType, task);
        if (peft is null) return;
        var ids = TinyModels.RandomIds(2, 6);
        var initial = Output(peft, ids);
        // LoRA's update B·A grows with the square of the step: at 0.05 it outweighs the tiny base many times over, and fp32
        // rounding of merged vs unmerged weights, amplified through the layers, reached 4e-4 in 1 of 3000 random draws of the
        // gaussian init (at 0.01 the worst of 3000 draws was 3e-6).
        var loraFamily = method.StartsWith("lora", StringComparison.Ordinal) || method == "dora";
        Train(peft, ids, learningRate: loraFamily ? 0.01 : 0.05);
        var unmerged = Output(peft, ids);
        if (!MethodCases.Mergeable(method))
        {
            var refused = Assert.Throws<InvalidOperationException>(() => peft.Merge());
            Assert.Contains("cannot be merged", refused.Message);
            Assert.True(Fixtures.MaxAbsDiff(Output(peft, ids), unmerged) < 1e-7, $"{method}: a refused merge changed the output");
            if (MethodCases.IsPromptLearning(method))
            {
                Assert.Throws<InvalidOperationException>(() => peft.MergeAndUnload());
                return;
            }
            var unloaded = peft.Unload();
            Assert.DoesNotContain(unloaded.named_modules(), m => m.module is IAdapterModule);
            Assert.True(Fixtures.MaxAbsDiff(Output(unloaded, ids), Output(TinyModels.Create(modelType, task), ids)) < 1e-6, $"{method}: unloading left the adapter in");
            return;
        }
        // A wrong merge (scaling, transpose, a missed module) errs by about the adapter's whole effect, so the bar sits at a tenth
        // of that effect where the effect is small (IA3 moves the tiny MLM heads by ~1e-3).
        var effect = Fixtures.MaxAbsDiff(unmerged, initial);
        Assert.True(effect > 1e-5, $"{method}: training did not move the output ({effect})");
        var tolerance = Math.Min(Tolerance, effect / 10);
        peft.Merge();
        var merged = Output(peft, ids);
        Assert.True(Fixtures.MaxAbsDiff(merged, unmerged) < tolerance, $"{method}: merged differs by {Fixtures.MaxAbsDiff(merged, unmerged)} (adapter effect {effect})");
        peft.Merge();                                                          // merging twice changes nothing
        Assert.True(Fixtures.MaxAbsDiff(Output(peft, ids), merged) < 1e-7);
        peft.Unmerge();
        Assert.True(Fixtures.MaxAbsDiff(Output(peft, ids), unmerged) < tolerance);
        var plain = peft.MergeAndUnload(safe: true);
        Assert.DoesNotContain(plain.named_modules(), m => m.module is IAdapterModule);
        Assert.True(Fixtures.MaxAbsDiff(Output(plain, ids), unmerged) < tolerance, $"{method}: merge-and-unload differs");
    }

    [Theory]
    [MemberData(nameof(MethodCases.All), MemberType = typeof(MethodCases))]
    public void DisabledAdapterGivesTheBaseOutput(string method, string modelType, ModelTask task)
    {
        var peft = Attach(method, modelType, task);
        if (peft is null) return;
        var ids = TinyModels.RandomIds(2, 6);
        Tensor baseOutput;
        using (peft.DisableAdapters()) baseOutput = Output(peft, ids);
        Train(peft, ids);
        var adapted = Output(peft, ids);
        using (peft.DisableAdapters())
            Assert.True(Fixtures.MaxAbsDiff(Output(peft, ids), baseOutput) < 1e-6, $"{method}: disabled output is not the base");
        Assert.True(Fixtures.MaxAbsDiff(Output(peft, ids), adapted) < 1e-6, "re-enabling restores the adapter");
        if (!MethodCases.ChangesBase(method))
            Assert.True(Fixtures.MaxAbsDiff(Output(TinyModels.Create(modelType, task), ids), baseOutput) < 1e-6);
    }

    [Theory]
    [MemberData(nameof(MethodCases.All), MemberType = typeof(MethodCases))]
    public void SaveThenLoadGivesIdenticalOutputs(string method, string modelType, ModelTask task)
    {
        var peft = Attach(method, modelType, task);
        if (peft is null) return;
        var ids = TinyModels.RandomIds(2, 6);
        Train(peft, ids);
        var expected = Output(peft, ids);
        using var dir = Fixtures.TempDir();
        peft.SaveAdapter(dir.Path);
        var keys = Fixtures.ReadTensors(dir.File(AdapterFiles.WeightsFile)).Keys.ToList();
        if (MethodCases.IsPromptLearning(method))
        {
            Assert.Contains("prompt_embeddings", keys);
            Assert.All(keys.Where(k => k != "prompt_embeddings"), k => Assert.StartsWith("base_model.", k));
        }
        else Assert.All(keys, k => Assert.StartsWith("base_model.model.", k));
        Assert.DoesNotContain(keys, k => k.Contains(".default."));
        var config = PeftMethods.ReadConfig(dir.File(AdapterFiles.ConfigFile));
        Assert.Equal(peft.Adapters["default"].PeftType, config.PeftType);
        Assert.True(config.InferenceMode);
        Assert.Empty(config.IgnoredFields);

        var fresh = MethodCases.ChangesBase(method) ? TinyModels.Create(modelType, task) : TinyModels.Create(modelType, task);
        var loaded = PeftModel.Load(fresh, dir.Path);
        double diff = Fixtures.MaxAbsDiff(Output(loaded, ids), expected);
        Assert.True(diff < (MethodCases.ChangesBase(method) ? 1e-4 : 1e-6), $"{method}: reloaded adapter differs by {diff}");
        Assert.Equal(0, loaded.TrainableParameters().Trainable);
    }

    [Theory]
    [MemberData(nameof(MethodCases.OneHeadPerFamily), MemberType = typeof(MethodCases))]
    public void MixedBatchRowsEqualEachAdaptersOwnOutput(string method, string modelType, ModelTask task)
    {
        var peft = Attach(method, modelType, task, "first");
        if (peft is null) return;
        var ids = TinyModels.RandomIds(1, 6);
        Train(peft, ids);
        peft.AddAdapter("second", MethodCases.Configs[method]());
        peft.SetAdapter("second");
        Train(peft, TinyModels.RandomIds(1, 6, seed: 9));
        Tensor Alone(string? adapter)
        {
            if (adapter is null) using (peft.DisableAdapters()) return Output(peft, ids);
            peft.SetAdapter(adapter);
            return Output(peft, ids);
        }
        var first = Alone("first");
        var second = Alone("second");
        var none = Alone(null);
        Assert.True(Fixtures.MaxAbsDiff(first, second) > 1e-4, "the two adapters must differ for this test to mean anything");
        var batch = cat(new[] { ids, ids, ids, ids }, 0);
        Tensor mixed;
        using (peft.RouteRows(new[] { "second", AdapterRouting.BaseModel, "first", "second" })) mixed = Output(peft, batch);
        Assert.True(Fixtures.MaxAbsDiff(mixed[0], second[0]) < Tolerance, $"{method}: row 0 differs");
        Assert.True(Fixtures.MaxAbsDiff(mixed[1], none[0]) < Tolerance, $"{method}: base row differs");
        Assert.True(Fixtures.MaxAbsDiff(mixed[2], first[0]) < Tolerance, $"{method}: row 2 differs");
        Assert.True(Fixtures.MaxAbsDiff(mixed[3], second[0]) < Tolerance);
    }
}
