using PeftSharp.IO;
using PeftSharp.IO.Pickle;
using PeftSharp.Models;
using static TorchSharp.torch;

namespace PeftSharp.Tests.IO;

/// <summary>torch.save zip checkpoints (pytorch_model.bin and sharded indexes) read through <see cref="PickleTensorSource"/>.</summary>
public class PickleTensorSourceTests
{
    static readonly float[] Shared = Enumerable.Range(0, 12).Select(i => i * 0.5f - 3).ToArray();

    [Theory]
    [InlineData("tensors.bin")]        // pickle protocol 2, as torch.save writes by default
    [InlineData("tensors-proto5.bin")] // protocol 5: FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL
    public void ReadsEveryStorageType(string file)
    {
        using var source = PickleTensorSource.OpenFile(TorchBinFixtures.Path(file));
        Assert.Equal(new[] { 1.0 / 3, -2.25, 1e300 }, Values<double>(source, "double", ScalarType.Float64, 3));
        Assert.Equal(new[] { 0.5f, -1.25f, 65504f, 0.0009765625f }, Values<Half>(source, "half", ScalarType.Float16, 2, 2).Select(h => (float)h));
        var bf16 = new[] { 1.5f, -2f, 0.15625f, 3.0e38f }.Select(f => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(f) & unchecked((int)0xFFFF0000)));
        using (var t = source.Read("bfloat16"))
        {
            Assert.Equal(ScalarType.BFloat16, t.dtype);
            Assert.Equal(bf16, t.to(ScalarType.Float32).data<float>().ToArray());
        }
        Assert.Equal(new[] { -(1L << 62), 0, (1L << 62) + 5 }, Values<long>(source, "long", ScalarType.Int64, 3));
        Assert.Equal(new[] { -7, int.MaxValue }, Values<int>(source, "int", ScalarType.Int32, 2));
        Assert.Equal(new short[] { -32768, 12345 }, Values<short>(source, "short", ScalarType.Int16, 2));
        Assert.Equal(new sbyte[] { -128, 127, 3 }, Values<sbyte>(source, "char", ScalarType.Int8, 3));
        Assert.Equal(new byte[] { 0, 200, 255 }, Values<byte>(source, "byte", ScalarType.Byte, 3));
        Assert.Equal(new[] { true, false, true }, Values<bool>(source, "bool", ScalarType.Bool, 3));
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, Values<byte>(source, "untyped", ScalarType.Byte, 2, 2));
        Assert.Equal(new[] { 0.5f, 2f }, Values<Half>(source, "dtype_named", ScalarType.Float16, 2).Select(h => (float)h)); // storage type torch.float16
    }

    [Theory]
    [InlineData("tensors.bin")]
    [InlineData("tensors-proto5.bin")]
    public void ViewsOfASharedStorageHonourOffsetSizeAndStride(string file)
    {
        using var source = PickleTensorSource.OpenFile(TorchBinFixtures.Path(file));
        float[] At(params int[] indices) => indices.Select(i => Shared[i]).ToArray();
        Assert.Equal(Shared, Values<float>(source, "shared.matrix", ScalarType.Float32, 3, 4));
        Assert.Equal(At(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11), Values<float>(source, "shared.transposed", ScalarType.Float32, 4, 3));
        Assert.Equal(At(4, 5, 6, 7), Values<float>(source, "shared.row", ScalarType.Float32, 4));
        Assert.Equal(At(2, 6, 10), Values<float>(source, "shared.column", ScalarType.Float32, 3));
        Assert.Equal(At(5, 6, 7, 5, 6, 7), Values<float>(source, "shared.broadcast", ScalarType.Float32, 2, 3));
        Assert.Equal(new[] { 107f, 108f, 109f }, Values<float>(source, "tail.slice", ScalarType.Float32, 3));
        using var transposed = source.Read("shared.transposed");
        Assert.True(transposed.is_contiguous());
    }

    [Fact]
    public void ReadsScalarsEmptyTensorsParametersAndEveryRebuildForm()
    {
        using var source = PickleTensorSource.OpenFile(TorchBinFixtures.Path("tensors.bin"));
        Assert.Equal(new[] { 42f }, Values<float>(source, "scalar", ScalarType.Float32));
        Assert.Empty(Values<float>(source, "empty", ScalarType.Float32, 0, 3));
        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, Values<float>(source, "parameter", ScalarType.Float32, 2, 2));
        Assert.Equal(new[] { 9f, 8f }, Values<float>(source, "legacy_rebuild", ScalarType.Float32, 2));
        Assert.Equal(new[] { 5f }, Values<float>(source, "with_metadata", ScalarType.Float32, 1));
        Assert.Equal(22, source.Names.Count);
    }

    [Fact]
    public void InfoDescribesATensorWithoutReadingIt()
    {
        string path = TorchBinFixtures.Path("tensors.bin");
        using var source = PickleTensorSource.OpenFile(path);
        var info = source.Info("shared.transposed");
        Assert.Equal(("shared.transposed", ScalarType.Float32, path), (info.Name, info.DType, info.File));
        Assert.Equal(new long[] { 4, 3 }, info.Shape);
        Assert.Throws<KeyNotFoundException>(() => source.Info("missing"));
    }

    [Fact]
    public void ShardedRealModelLoadsThroughItsIndexAndMatchesSafetensors()
    {
        string directory = TorchBinFixtures.Path("stories260K");
        Assert.Equal("pytorch_model.bin.index.json", Path.GetFileName(CheckpointDirectory.FindWeights(directory)));
        using (var source = CheckpointDirectory.Open(directory))
        {
            Assert.IsType<PickleTensorSource>(source);
            var expected = Fixtures.ReadTensors(Fixtures.Shared("models", "stories260K-hf", "model.safetensors"));
            Assert.Equal(expected.Keys.Order(), source.Names.Order());
            foreach (var (name, tensor) in expected)
            {
                using var read = source.Read(name);
                TensorAssert.Identical(tensor, read, name);
            }
        }
        var fromBin = AutoModel.Load(directory).Model;
        var fromSafetensors = AutoModel.Load(Fixtures.Shared("models", "stories260K-hf")).Model;
        using var _ = no_grad();
        var ids = tensor(new long[] { 1, 403, 407, 261, 378, 10, 1, 5, 77, 511 }).unsqueeze(0);
        TensorAssert.Identical(fromSafetensors.Logits(ids), fromBin.Logits(ids), "logits");
    }

    [Fact]
    public void SinglePytorchModelBinIsFoundInADirectory()
    {
        using var directory = Fixtures.TempDir();
        File.Copy(TorchBinFixtures.Path("tensors.bin"), directory.File("pytorch_model.bin"));
        using var source = CheckpointDirectory.Open(directory.Path);
        Assert.IsType<PickleTensorSource>(source);
        Assert.Contains("shared.matrix", source.Names);
    }

    [Theory]
    [InlineData("os-system.bin", "posix.system")]             // os.system, as pickled on Linux
    [InlineData("builtins-eval.bin", "builtins.eval")]        // protocol 4: STACK_GLOBAL
    [InlineData("nested-reduce.bin", "shutil.rmtree")]        // hidden in a tensor's metadata argument
    public void RefusesEveryOtherGlobalByName(string file, string global)
    {
        string path = TorchBinFixtures.Path(file);
        var error = Assert.Throws<CheckpointFormatException>(() => PickleTensorSource.OpenFile(path));
        Assert.Equal(path, error.File);
        Assert.Contains($"'{global}'", error.Message);
        Assert.Contains("refused", error.Message);
    }

    [Fact]
    public void RefusesCallingAnAllowedGlobalThatIsNotAFunction()
    {
        string path = TorchBinFixtures.Path("storage-call.bin");
        var error = Assert.Throws<CheckpointFormatException>(() => PickleTensorSource.OpenFile(path));
        Assert.Contains("calls 'torch.FloatStorage'", error.Message);
    }

    [Theory]
    [InlineData("unknown-storage.bin", null, "storage type 'torch.QInt8Storage' is not supported")]
    [InlineData("short-storage.bin", "weight", "holds 12 bytes but its 6 x Float32 elements need 24 (truncated storage)")]
    [InlineData("missing-data-pkl.bin", null, "has no <folder>/data.pkl record")]
    [InlineData("legacy.bin", null, "legacy (pre-1.6) torch.save format")]
    [InlineData("big-endian.bin", null, "big-endian")]
    public void BrokenCheckpointsNameTheFileAndTheProblem(string file, string? tensor, string message)
    {
        string path = TorchBinFixtures.Path(file);
        var error = Assert.Throws<CheckpointFormatException>(() => PickleTensorSource.OpenFile(path));
        Assert.Equal(path, error.File);
        Assert.Equal(tensor, error.Tensor);
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData(0.5)]  // cuts storages and the central directory
    [InlineData(0.98)] // cuts only the end of the central directory
    public void TruncatedArchivesAreReported(double fraction)
    {
        using var directory = Fixtures.TempDir();
        var bytes = File.ReadAllBytes(TorchBinFixtures.Path("tensors.bin"));
        string path = directory.File("pytorch_model.bin");
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * fraction)]);
        var error = Assert.Throws<CheckpointFormatException>(() => PickleTensorSource.OpenFile(path));
        Assert.Equal(path, error.File);
        Assert.Contains("truncated or corrupt", error.Message);
    }

    [Fact]
    public void IndexNamingAMissingShardOrAMisplacedTensorIsReported()
    {
        using var directory = Fixtures.TempDir();
        File.Copy(TorchBinFixtures.Path("tensors.bin"), directory.File("a.bin"));
        string index = directory.File("pytorch_model.bin.index.json");

        File.WriteAllText(index, """{"weight_map": {"shared.matrix": "a.bin", "other": "b.bin"}}""");
        var error = Assert.Throws<CheckpointFormatException>(() => PickleTensorSource.OpenIndex(index));
        Assert.Contains("shard 'b.bin' named in weight_map does not exist", error.Message);

        File.WriteAllText(index, """{"weight_map": {"shared.matrix": "a.bin", "not.there": "a.bin"}}""");
        error = Assert.Throws<CheckpointFormatException>(() => PickleTensorSource.OpenIndex(index));
        Assert.Equal("not.there", error.Tensor);

        File.WriteAllText(index, """{"weight_map": {"x": "../a.bin"}}""");
        Assert.Throws<ConfigException>(() => PickleTensorSource.OpenIndex(index));
    }

    /// <summary>Reads a tensor, checks its dtype and shape, and returns its values in row-major order.</summary>
    static T[] Values<T>(ITensorSource source, string name, ScalarType type, params long[] shape) where T : unmanaged
    {
        using var tensor = source.Read(name);
        Assert.Equal(type, tensor.dtype);
        Assert.Equal(shape, tensor.shape);
        Assert.Equal(type, source.Info(name).DType);
        Assert.Equal(shape, source.Info(name).Shape);
        return tensor.numel() == 0 ? Array.Empty<T>() : tensor.data<T>().ToArray();
    }
}
