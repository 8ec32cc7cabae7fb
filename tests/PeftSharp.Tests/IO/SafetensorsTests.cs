using System.Text;
using PeftSharp.IO;
using static TorchSharp.torch;

namespace PeftSharp.Tests.IO;

public class SafetensorsTests
{
    [Fact]
    public void EveryDtypeRoundTripsWithMetadata()
    {
        using var dir = Fixtures.TempDir();
        var tensors = new Dictionary<string, Tensor>
        {
            ["f64"] = randn(3, 2, ScalarType.Float64),
            ["f32"] = randn(5, ScalarType.Float32),
            ["f16"] = randn(2, 2).to(ScalarType.Float16),
            ["bf16"] = randn(4, 3).to(ScalarType.BFloat16),
            ["i64"] = arange(-5, 5, ScalarType.Int64),
            ["i32"] = arange(0, 6, ScalarType.Int32).reshape(2, 3),
            ["i16"] = arange(-3, 3, ScalarType.Int16),
            ["i8"] = arange(-4, 4, ScalarType.Int8),
            ["u8"] = arange(0, 255, ScalarType.Byte),
            ["bool"] = tensor(new[] { true, false, true }),
            ["scalar"] = tensor(3.5f),
            ["empty"] = zeros(0, 4),
            ["transposed view"] = randn(3, 4).t(),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode" };
        string path = dir.File("all.safetensors");
        SafetensorsWriter.Save(path, tensors, metadata);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(metadata, file.Metadata);
        Assert.Equal(tensors.Keys.OrderBy(k => k), file.Names.OrderBy(k => k));
        foreach (var (name, expected) in tensors)
        {
            var actual = file.Read(name);
            Assert.Equal(expected.dtype, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(expected.equal(actual).all().item<bool>(), name);
        }
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void HeaderIsAlignedCompactJsonAsPythonWritesIt()
    {
        using var dir = Fixtures.TempDir();
        string path = dir.File("a.safetensors");
        SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { ["b"] = ones(2, ScalarType.Int8), ["a"] = ones(3) });
        byte[] bytes = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        Assert.Equal(0, headerLength % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        // Larger elements first (alignment), then by name; offsets tile the data section.
        Assert.Equal("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"I8","shape":[2],"data_offsets":[12,14]}}""", header.TrimEnd(' '));
        Assert.Equal(8 + headerLength + 14, bytes.Length);
    }

    [Fact]
    public void ReadsTheRealPeftAdapterFile()
    {
        using var file = SafetensorsFile.Open(Fixtures.Shared("reference", "gpt2-lora", "adapter_model.safetensors"));
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(24, file.Entries.Count);
        var a = file.Read("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight");
        Assert.Equal(new long[] { 4, 48 }, a.shape);
        Assert.False(a.isnan().any().item<bool>());
    }

    [Fact]
    public void TensorsLargerThanTwoGigabytesRoundTrip()
    {
        using var dir = Fixtures.TempDir();
        long count = (1L << 31) + 24;                       // past int.MaxValue bytes
        using var big = zeros(count, ScalarType.Byte);
        big[0] = tensor((byte)7);
        big[count - 1] = tensor((byte)9);
        big[1L << 31] = tensor((byte)5);
        string path = dir.File("big.safetensors");
        SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { ["big"] = big, ["small"] = ones(3) });
        big.Dispose();
        using var file = SafetensorsFile.Open(path);
        using var read = file.Read("big");
        Assert.Equal(count, read.numel());
        Assert.Equal(7, read[0].item<byte>());
        Assert.Equal(5, read[1L << 31].item<byte>());
        Assert.Equal(9, read[count - 1].item<byte>());
        Assert.Equal(3, read.count_nonzero().item<long>());  // sum() would widen 2 GB of bytes to int64
        Assert.Equal(3f, file.Read("small").sum().item<float>());
    }
}
