using PeftSharp.IO.Gguf;
using static TorchSharp.torch;

namespace PeftSharp.Tests.IO;

/// <summary>Q8_0 and Q4_0 blocks built by hand, with the expected values worked out from the block layout.</summary>
public class GgufDequantizationTests
{
    /// <summary>fp16 bits of the scales used: 0.5 = 0x3800, 0.25 = 0x3400, -2 = 0xC000.</summary>
    static byte[] Scale(ushort bits) => BitConverter.GetBytes(bits);

    [Fact]
    public void Q8_0IsScaleTimesSignedByte()
    {
        // Two blocks in one row of 64: block 0 has d = 0.5 and q = -128, -127, ..., -97; block 1 has d = -2 and q = 0..31.
        var q0 = Enumerable.Range(-128, 32).Select(v => (byte)(sbyte)v).ToArray();
        var q1 = Enumerable.Range(0, 32).Select(v => (byte)v).ToArray();
        var data = Scale(0x3800).Concat(q0).Concat(Scale(0xC000)).Concat(q1).ToArray();
        var expected = Enumerable.Range(-128, 32).Select(v => v * 0.5f).Concat(Enumerable.Range(0, 32).Select(v => v * -2f)).ToArray();
        Assert.Equal(expected, Read(GgufTensorType.Q8_0, new long[] { 64 }, data, new long[] { 64 }));
    }

    [Fact]
    public void Q4_0KeepsLowNibblesFirstThenHighNibblesMinusEight()
    {
        // d = 0.25; byte j = (15 - j) << 4 | j, so x[j] = (j - 8) * 0.25 and x[j + 16] = (15 - j - 8) * 0.25.
        var nibbles = Enumerable.Range(0, 16).Select(j => (byte)((15 - j) << 4 | j)).ToArray();
        var data = Scale(0x3400).Concat(nibbles).ToArray();
        var expected = Enumerable.Range(0, 16).Select(j => (j - 8) * 0.25f).Concat(Enumerable.Range(0, 16).Select(j => (7 - j) * 0.25f)).ToArray();
        Assert.Equal(new[] { -2f, -1.75f }, expected[..2]);
        Assert.Equal(new[] { 1.75f, 1.5f }, expected[16..18]);
        Assert.Equal(expected, Read(GgufTensorType.Q4_0, new long[] { 32 }, data, new long[] { 32 }));
    }

    [Fact]
    public void QuantisedMatricesKeepTheirRowsInTorchOrder()
    {
        // ne = [32, 2]: two rows of one Q8_0 block each; torch shape [2, 32].
        var row0 = Scale(0x3C00).Concat(Enumerable.Range(0, 32).Select(v => (byte)v)).ToArray();      // d = 1
        var row1 = Scale(0x3800).Concat(Enumerable.Repeat((byte)4, 32)).ToArray();                     // d = 0.5
        var values = Read(GgufTensorType.Q8_0, new long[] { 32, 2 }, row0.Concat(row1).ToArray(), new long[] { 2, 32 });
        Assert.Equal(Enumerable.Range(0, 32).Select(v => (float)v).Concat(Enumerable.Repeat(2f, 32)), values);
    }

    static float[] Read(GgufTensorType type, long[] dimensions, byte[] data, long[] shape)
    {
        using var directory = Fixtures.TempDir();
        string path = new GgufBuilder().Tensor("q", dimensions, type, data).Write(directory.File("q.gguf"));
        using var file = GgufFile.Open(path);
        Assert.Equal(data.Length, file["q"].ByteLength);
        Assert.Equal(ScalarType.Float32, GgufFile.OutputType(file["q"]));
        using var tensor = file.Read("q");
        Assert.Equal(ScalarType.Float32, tensor.dtype);
        Assert.Equal(shape, tensor.shape);
        return tensor.data<float>().ToArray();
    }
}
