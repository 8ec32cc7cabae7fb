using System.Text;
using PeftSharp.IO.Pickle;

namespace PeftSharp.Tests.IO;

/// <summary>The restricted unpickler on hand-made pickles: refusals happen at the opcode that names a global.</summary>
public class RestrictedUnpicklerTests
{
    const string File = "test.bin";

    static byte[] Pickle(params object[] parts) =>
        parts.SelectMany(p => p switch { string s => Encoding.ASCII.GetBytes(s), byte b => new[] { b }, byte[] bytes => bytes, _ => throw new ArgumentException() }).ToArray();

    [Fact]
    public void AGlobalIsRefusedWhereItIsNamedEvenIfNeverCalled()
    {
        // PROTO 2, GLOBAL os.system, POP, NONE, STOP: os.system is only pushed, never called.
        var data = Pickle((byte)0x80, (byte)2, "cos\nsystem\n", "0", "N", ".");
        var error = Assert.Throws<CheckpointFormatException>(() => RestrictedUnpickler.Load(data, File));
        Assert.Equal(File, error.File);
        Assert.Contains("data.pkl at byte 2", error.Message);
        Assert.Contains("'os.system'", error.Message);
    }

    [Fact]
    public void ObjectCreatingOpcodesOfOldProtocolsAreRefusedByName()
    {
        // INST os\nsystem\n: protocol 0's way to call a class.
        var data = Pickle("(", "S'ls'\n", "ios\nsystem\n", ".");
        var error = Assert.Throws<CheckpointFormatException>(() => RestrictedUnpickler.Load(data, File));
        Assert.Contains("STRING", error.Message);
        error = Assert.Throws<CheckpointFormatException>(() => RestrictedUnpickler.Load(Pickle("(", "ios\nsystem\n", "."), File));
        Assert.Contains("INST", error.Message);
        Assert.Contains("could create objects", error.Message);
    }

    [Fact]
    public void BuildAndNewObjOnlyWorkOnDicts()
    {
        // GLOBAL torch FloatStorage, EMPTY_TUPLE, NEWOBJ
        var error = Assert.Throws<CheckpointFormatException>(() => RestrictedUnpickler.Load(Pickle((byte)0x80, (byte)2, "ctorch\nFloatStorage\n", ")", (byte)0x81, "."), File));
        Assert.Contains("NEWOBJ of 'torch.FloatStorage' is refused", error.Message);
        // EMPTY_LIST, EMPTY_DICT, BUILD
        error = Assert.Throws<CheckpointFormatException>(() => RestrictedUnpickler.Load(Pickle((byte)0x80, (byte)2, "]", "}", "b", "."), File));
        Assert.Contains("BUILD on a list is refused", error.Message);
    }

    [Fact]
    public void PlainDataRoundTrips()
    {
        // {'a': [1, -2, 3.5, True, None, 'é'], 'b': (300, 2**40)}, protocol 2
        var data = Pickle((byte)0x80, (byte)2, "}", "(",
            "X", BitConverter.GetBytes(1), "a", "]", "(", "K", (byte)1, "J", BitConverter.GetBytes(-2), "G",
            BitConverter.GetBytes(3.5).Reverse().ToArray(), (byte)0x88, "N", "X", BitConverter.GetBytes(2), new byte[] { 0xc3, 0xa9 }, "e",
            "X", BitConverter.GetBytes(1), "b", "M", BitConverter.GetBytes((ushort)300), (byte)0x8a, (byte)6, new byte[] { 0, 0, 0, 0, 0, 1 }, (byte)0x86,
            "u", ".");
        var root = Assert.IsType<PickleDict>(RestrictedUnpickler.Load(data, File));
        var items = root.Items.ToDictionary(p => (string)p.Key, p => p.Value);
        Assert.Equal(new object?[] { 1L, -2L, 3.5, true, null, "é" }, Assert.IsType<List<object?>>(items["a"]));
        Assert.Equal(new object?[] { 300L, 1L << 40 }, Assert.IsType<object?[]>(items["b"]));
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 2, (byte)'X', 10, 0, 0, 0, (byte)'a' }, "runs past its end")]
    [InlineData(new byte[] { 0x80, 2, (byte)'N' }, "truncated")]
    [InlineData(new byte[] { 0x80, 2, (byte)'t', (byte)'.' }, "no MARK")]
    [InlineData(new byte[] { 0x80, 2, (byte)'h', 7, (byte)'.' }, "memo entry 7 is read before it is written")]
    [InlineData(new byte[] { 0x80, 2, (byte)'a', (byte)'.' }, "stack underflow")]
    [InlineData(new byte[] { 0x80, 9 }, "protocol 9")]
    public void MalformedPicklesAreReported(byte[] data, string message)
    {
        var error = Assert.Throws<CheckpointFormatException>(() => RestrictedUnpickler.Load(data, File));
        Assert.Contains(message, error.Message);
    }
}
