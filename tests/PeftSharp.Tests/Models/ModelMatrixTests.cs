using PeftSharp.Generation;
using PeftSharp.Models;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Models;

/// <summary>Every family and head: checkpoints round-trip, strict loading, caching and padding invariances, bf16.</summary>
public class ModelMatrixTests
{
    [Theory]
    [MemberData(nameof(TinyModels.Cases), MemberType = typeof(TinyModels))]
    public void SaveThenLoadGivesIdenticalOutputs(string modelType, ModelTask task)
    {
        foreach (bool sharded in new[] { false, true })
            foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
            {
                using var dir = Fixtures.TempDir();
                var original = TinyModels.WriteCheckpoint(modelType, task, dir.Path, dtype, sharded);
                Assert.Equal(sharded, File.Exists(dir.File("model.safetensors.index.json")));
                var loaded = AutoModel.Load(dir.Path, new ModelLoadOptions { DType = dtype });
                var defaultDType = AutoModel.DefaultDType(loaded.Model.Config);
                Assert.Equal(dtype == ScalarType.BFloat16 && PeftSharp.Modules.CpuFeatures.HasFastBFloat16 ? ScalarType.BFloat16 : ScalarType.Float32, defaultDType);
                Assert.Equal(task, loaded.Model.Task);
                Assert.Equal(dtype, loaded.Model.DType);
                Assert.Empty(loaded.Report.NewlyInitialized);
                var ids = TinyModels.RandomIds(2, 7);
                using var _ = no_grad();
                var expected = Output(original, ids);
                var actual = Output(loaded.Model, ids);
                Assert.True(expected.equal(actual).all().item<bool>(), $"{modelType} {task} sharded={sharded} {dtype}: outputs differ by {Fixtures.MaxAbsDiff(expected, actual)}");
            }
    }

    [Theory]
    [MemberData(nameof(TinyModels.CausalCases), MemberType = typeof(TinyModels))]
    public void CachedGenerationEqualsUncachedGeneration(string modelType, ModelTask task)
    {
        var model = TinyModels.Create(modelType, task);
        var ids = TinyModels.RandomIds(3, 6);
        var mask = ones_like(ids);
        mask[0, 0] = tensor(0L);                                          // row 0 left-padded by one
        mask[1, ..2] = tensor(0L);                                        // row 1 by two
        var cached = TextGenerator.Generate(model, ids, mask, new GenerationOptions { MaxNewTokens = 12, UseCache = true });
        var uncached = TextGenerator.Generate(model, ids, mask, new GenerationOptions { MaxNewTokens = 12, UseCache = false });
        Assert.Equal(uncached.NewTokens, cached.NewTokens);
        Assert.All(cached.NewTokens, row => Assert.Equal(12, row.Count));
    }

    [Theory]
    [MemberData(nameof(TinyModels.Cases), MemberType = typeof(TinyModels))]
    public void PaddedBatchRowsEqualEachRowAlone(string modelType, ModelTask task)
    {
        var model = TinyModels.Create(modelType, task);
        using var _ = no_grad();
        var shortRow = TinyModels.RandomIds(1, 4, seed: 11);
        var longRow = TinyModels.RandomIds(1, 7, seed: 12);
        var sides = model.IsCausal ? new[] { true, false } : new[] { false };
        foreach (bool left in sides)
        {
            var padding = zeros(1, 3, ScalarType.Int64);
            var paddedShort = left ? cat(new[] { padding, shortRow }, 1) : cat(new[] { shortRow, padding }, 1);
            var shortMask = left ? cat(new[] { padding, ones_like(shortRow) }, 1) : cat(new[] { ones_like(shortRow), padding }, 1);
            var batchIds = cat(new[] { paddedShort, longRow }, 0);
            var batchMask = cat(new[] { shortMask, ones_like(longRow) }, 0);
            var batched = model.call(new ModelInputs { InputIds = batchIds, AttentionMask = batchMask });
            var alone = model.call(new ModelInputs { InputIds = shortRow });
            var longAlone = model.call(new ModelInputs { InputIds = longRow });
            var (batchedShort, aloneShort) = task is ModelTask.SequenceClassification
                ? (batched.Logits![0], alone.Logits![0])
                : (Real(batched, 0, shortMask[0], task), Real(alone, 0, ones_like(shortRow)[0], task));
            Assert.True(Fixtures.MaxAbsDiff(batchedShort, aloneShort) < 1e-4, $"{modelType} {task} {(left ? "left" : "right")}-padded row differs by {Fixtures.MaxAbsDiff(batchedShort, aloneShort)}");
            var longBatched = task is ModelTask.SequenceClassification ? batched.Logits![1] : Real(batched, 1, ones_like(longRow)[0], task);
            var longExpected = task is ModelTask.SequenceClassification ? longAlone.Logits![0] : Real(longAlone, 0, ones_like(longRow)[0], task);
            Assert.True(Fixtures.MaxAbsDiff(longBatched, longExpected) < 1e-4);
        }
    }

    [Theory]
    [MemberData(nameof(TinyModels.Cases), MemberType = typeof(TinyModels))]
    public void Bfloat16OutputsAreCloseToFloat32(string modelType, ModelTask task)
    {
        using var dir = Fixtures.TempDir();
        TinyModels.WriteCheckpoint(modelType, task, dir.Path);
        var fp32 = AutoModel.Load(dir.Path).Model;
        var bf16 = AutoModel.Load(dir.Path, new ModelLoadOptions { DType = ScalarType.BFloat16 }).Model;
        Assert.Equal(ScalarType.BFloat16, bf16.DType);
        var ids = TinyModels.RandomIds(2, 8);
        using var _ = no_grad();
        var reference = Output(fp32, ids);
        var approx = Output(bf16, ids).to(ScalarType.Float32);
        double scale = reference.abs().max().item<float>();
        double error = Fixtures.MaxAbsDiff(reference, approx);
        Assert.True(error < 0.05 * scale + 1e-3, $"{modelType} {task}: bf16 differs by {error} (output scale {scale})");
    }

    static Tensor Output(TransformerModel model, Tensor ids)
    {
        var outputs = model.call(new ModelInputs { InputIds = ids });
        return outputs.Logits ?? outputs.LastHiddenState;
    }

    /// <summary>Per-token outputs of one row at its real positions.</summary>
    static Tensor Real(ModelOutputs outputs, int row, Tensor mask, ModelTask task)
    {
        var perToken = outputs.Logits ?? outputs.LastHiddenState;
        return perToken[row][mask.to(ScalarType.Bool)];
    }
}
