using PeftSharp.IO.Gguf;
using static TorchSharp.torch;

namespace PeftSharp.Tests.IO;

/// <summary>The GGUF container: header, metadata of every type, tensor table, alignment, and broken files.</summary>
public class GgufFileTests
{
    static string Stories => Fixtures.Shared("models", "stories260K", "stories260K.gguf");

    [Fact]
    public void ReadsTheRealStoriesFile()
    {
        using var file = GgufFile.Open(Stories);
        Assert.Equal(3u, file.Version);
        Assert.Equal(32, file.Alignment);
        Assert.Equal(48, file.Tensors.Count);
        Assert.Equal(19, file.Metadata.Count);
        Assert.Equal("llama", file.Metadata.String("general.architecture"));
        Assert.Equal(5, file.Metadata.Integer("llama.block_count"));
        Assert.Equal(512, file.Metadata.ArrayOf<string>("tokenizer.ggml.tokens").Length);
        Assert.Equal(1e-5, file.Metadata.Double("llama.attention.layer_norm_rms_epsilon"));
        var embedding = file["token_embd.weight"];
        Assert.Equal(new long[] { 64, 512 }, embedding.Dimensions);
        Assert.Equal(new long[] { 512, 64 }, embedding.Shape);
        Assert.Equal(GgufTensorType.F32, embedding.Type);
        using var tensor = file.Read("blk.0.ffn_down.weight");
        Assert.Equal(new long[] { 64, 172 }, tensor.shape);
        Assert.Equal(ScalarType.Float32, tensor.dtype);
    }

    [Theory]
    [InlineData(2u)]
    [InlineData(3u)]
    public void MetadataOfEveryTypeRoundTrips(uint version)
    {
        using var directory = Fixtures.TempDir();
        var builder = new GgufBuilder { Version = version }
            .Meta("u8", (byte)200).Meta("i8", (sbyte)-100).Meta("u16", (ushort)60000).Meta("i16", (short)-30000)
            .Meta("u32", 4000000000u).Meta("i32", -2000000000).Meta("u64", ulong.MaxValue).Meta("i64", long.MinValue)
            .Meta("f32", 0.1f).Meta("f64", Math.PI).Meta("yes", true).Meta("no", false).Meta("text", "héllo ▁")
            .Meta("floats", new[] { 1.5f, -2f }).Meta("strings", new[] { "a", "", "ü" }).Meta("empty", Array.Empty<int>())
            .Meta("nested", new object[] { new[] { 1, 2 }, new[] { 3 } }).Meta("bools", new[] { true, false });
        using var file = GgufFile.Open(builder.Write(directory.File("meta.gguf")));
        var m = file.Metadata;
        Assert.Equal(version, file.Version);
        Assert.Equal((byte)200, m["u8"]);
        Assert.Equal((sbyte)-100, m["i8"]);
        Assert.Equal(60000, m.Integer("u16"));
        Assert.Equal(-30000, m.Integer("i16"));
        Assert.Equal(4000000000L, m.Integer("u32"));
        Assert.Equal(-2000000000, m.Int32("i32"));
        Assert.Equal(ulong.MaxValue, m["u64"]);
        Assert.Equal(long.MinValue, m.Integer("i64"));
        Assert.Equal(0.1, m.Double("f32"));
        Assert.Equal(Math.PI, m.Double("f64"));
        Assert.True(m.Bool("yes"));
        Assert.False(m.Bool("no"));
        Assert.Equal("héllo ▁", m.String("text"));
        Assert.Equal(new[] { 1.5f, -2f }, m.ArrayOf<float>("floats"));
        Assert.Equal(new[] { "a", "", "ü" }, m.ArrayOf<string>("strings"));
        Assert.Empty(m.ArrayOf<int>("empty"));
        Assert.Equal(new object[] { new[] { 1, 2 }, new[] { 3 } }, m.ArrayOf<object>("nested"));
        Assert.Equal(new[] { true, false }, m.ArrayOf<bool>("bools"));
        Assert.Equal(new[] { "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "yes", "no", "text", "floats", "strings", "empty", "nested", "bools" }, m.Keys);

        var wrongType = Assert.Throws<CheckpointFormatException>(() => m.String("u32"));
        Assert.Contains("metadata 'u32' must be a string", wrongType.Message);
        Assert.Throws<CheckpointFormatException>(() => m.Integer("u64")); // does not fit a long
        Assert.Contains("'missing' is required", Assert.Throws<CheckpointFormatException>(() => m.String("missing")).Message);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(8)]
    public void PlainTensorsReadInTheirStoredTypeAtAnyAlignment(int alignment)
    {
        using var directory = Fixtures.TempDir();
        var halves = new[] { (Half)1.5, (Half)(-0.25), (Half)65504, (Half)0 };
        var bf16 = new ushort[] { 0x3FC0, 0xC000, 0x3E20 }; // 1.5, -2, 0.15625
        var builder = new GgufBuilder { Alignment = alignment }
            .F32("f32", new long[] { 2, 3 }, new[] { 1f, 2, 3, 4, 5, 6 })
            .Tensor("f16", new long[] { 2, 2 }, GgufTensorType.F16, halves.SelectMany(h => BitConverter.GetBytes(h)).ToArray())
            .Tensor("bf16", new long[] { 3 }, GgufTensorType.BF16, bf16.SelectMany(BitConverter.GetBytes).ToArray())
            .Tensor("i32", new long[] { 2 }, GgufTensorType.I32, new[] { -5, 7 }.SelectMany(BitConverter.GetBytes).ToArray());
        using var file = GgufFile.Open(builder.Write(directory.File("plain.gguf")));
        Assert.Equal(alignment, file.Alignment);
        Assert.Equal(0, file.DataOffset % alignment);
        using var f32 = file.Read("f32");
        Assert.Equal(new long[] { 2, 3 }, f32.shape);
        Assert.Equal(new[] { 1f, 2, 3, 4, 5, 6 }, f32.data<float>().ToArray());
        using var f16 = file.Read("f16");
        Assert.Equal(ScalarType.Float16, f16.dtype);
        Assert.Equal(halves, f16.data<Half>().ToArray());
        using var b = file.Read("bf16");
        Assert.Equal(ScalarType.BFloat16, b.dtype);
        Assert.Equal(new[] { 1.5f, -2f, 0.15625f }, b.to(ScalarType.Float32).data<float>().ToArray());
        using var i32 = file.Read("i32");
        Assert.Equal(new[] { -5, 7 }, i32.data<int>().ToArray());
    }

    [Fact]
    public void BadMagicIsReported() =>
        AssertBroken(new GgufBuilder { Magic = "GGML"u8.ToArray() }.F32("w", new long[] { 1 }, new[] { 1f }), "bad magic 0x47474D4C: not a GGUF file");

    [Theory]
    [InlineData(1u, "GGUF version 1 is not supported (supported: 2, 3) (GGUF v1 used 32-bit counts")]
    [InlineData(4u, "GGUF version 4 is not supported (supported: 2, 3)")]
    [InlineData(0x03000000u, "big-endian")]
    public void UnsupportedVersionsAreReported(uint version, string message) =>
        AssertBroken(new GgufBuilder { Version = version }.F32("w", new long[] { 1 }, new[] { 1f }), message);

    /// <summary>
    /// Layout of the file cut here: magic 0-4, version 4-8, tensor count 8-16, metadata count 16-24,
    /// "general.architecture" = "llama" 24-69, "llama.block_count" = 5u 69-102, tensor info of "w" 102-135.
    /// </summary>
    [Theory]
    [InlineData(2, "file ends at byte 2 while reading magic")]
    [InlineData(6, "while reading version")]
    [InlineData(12, "while reading tensor count")]
    [InlineData(30, "tensor count is 1, more than the 14 bytes left could hold")]
    [InlineData(60, "while reading length of metadata 'general.architecture'")]
    [InlineData(66, "general.architecture' claims 5 bytes but only 2 remain")]
    [InlineData(96, "while reading value type of metadata 'llama.block_count'")]
    [InlineData(120, "while reading dimension 0 of tensor 'w'")]
    public void TruncatedHeadersNameTheFieldBeingRead(int length, string message)
    {
        using var directory = Fixtures.TempDir();
        var builder = new GgufBuilder().Meta("general.architecture", "llama").Meta("llama.block_count", 5u).F32("w", new long[] { 4 }, new[] { 1f, 2, 3, 4 });
        string path = builder.Write(directory.File("cut.gguf"), length);
        var error = Assert.Throws<CheckpointFormatException>(() => GgufFile.Open(path));
        Assert.Equal(path, error.File);
        Assert.Contains(message, error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void TruncatedTensorDataNamesTheTensor()
    {
        using var directory = Fixtures.TempDir();
        var bytes = GgufBuilder.TinyLlama().Build();
        string path = directory.File("cut.gguf");
        File.WriteAllBytes(path, bytes[..^20]);
        var error = Assert.Throws<CheckpointFormatException>(() => GgufFile.Open(path));
        Assert.Equal("blk.0.ffn_norm.weight", error.Tensor);
        Assert.Contains("runs past the end of the data section", error.Message);
    }

    [Fact]
    public void OffsetsOutOfRangeOrMisalignedAreReported()
    {
        var data = new byte[16];
        var error = AssertBroken(new GgufBuilder().Tensor("w", new long[] { 4 }, GgufTensorType.F32, data, offset: 1UL << 40), "offset out of range or file truncated");
        Assert.Equal("w", error.Tensor);
        error = AssertBroken(new GgufBuilder().Tensor("w", new long[] { 4 }, GgufTensorType.F32, data, offset: 4), "offset 4 is not a multiple of the alignment 32");
        Assert.Equal("w", error.Tensor);
    }

    [Theory]
    [InlineData(12u, "type Q4_K (12) is not supported")]
    [InlineData(99u, "type 99 (unknown to this reader) is not supported")]
    public void UnsupportedTensorTypesAreNamed(uint type, string message)
    {
        var error = AssertBroken(new GgufBuilder().Tensor("blk.0.attn_q.weight", new long[] { 256 }, type, new byte[144]), message);
        Assert.Equal("blk.0.attn_q.weight", error.Tensor);
        Assert.Contains("supported: F32, F16, BF16", error.Message);
    }

    [Fact]
    public void OtherStructuralErrorsAreReported()
    {
        AssertBroken(new GgufBuilder().Meta("a", 1).Meta("a", 2), "metadata 'a' appears twice");
        AssertBroken(new GgufBuilder().F32("w", new long[] { 1 }, new[] { 1f }).F32("w", new long[] { 1 }, new[] { 1f }), "appears twice in the tensor table");
        AssertBroken(new GgufBuilder().Tensor("w", new long[] { 1, 1, 1, 1, 1 }, GgufTensorType.F32, new byte[4]), "has 5 dimensions");
        AssertBroken(new GgufBuilder().Tensor("w", new long[] { 16 }, GgufTensorType.Q8_0, new byte[34]), "must hold whole blocks of 32");
        AssertBroken(new GgufBuilder().Meta("general.alignment", 24u), "metadata 'general.alignment' is 24; it must be a positive power of two");
    }

    [Fact]
    public void AStringLengthPastTheEndIsReportedWithoutAllocatingIt()
    {
        using var directory = Fixtures.TempDir();
        var bytes = new GgufBuilder().Meta("key", "value").Build();
        BitConverter.GetBytes(ulong.MaxValue / 2).CopyTo(bytes, 24); // the key's length
        string path = directory.File("huge.gguf");
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<CheckpointFormatException>(() => GgufFile.Open(path));
        Assert.Contains("key of metadata entry 0 claims", error.Message);
    }

    static CheckpointFormatException AssertBroken(GgufBuilder builder, string message)
    {
        using var directory = Fixtures.TempDir();
        string path = builder.Write(directory.File("broken.gguf"));
        var error = Assert.Throws<CheckpointFormatException>(() => GgufFile.Open(path));
        Assert.Equal(path, error.File);
        Assert.Contains(message, error.Message);
        return error;
    }
}
