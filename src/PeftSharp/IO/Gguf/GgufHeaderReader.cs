using System.Buffers.Binary;
using System.Text;

namespace PeftSharp.IO.Gguf;

/// <summary>
/// Reads the little-endian header of a GGUF file through a buffered stream, checking every length against what is
/// left of the file, so a truncated or corrupt header fails with the field being read rather than a huge allocation.
/// </summary>
internal sealed class GgufHeaderReader : IDisposable
{
    static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);
    readonly Stream _stream;
    readonly string _path;
    readonly byte[] _scratch = new byte[8];

    public GgufHeaderReader(string path)
    {
        _path = path;
        _stream = new BufferedStream(File.OpenRead(path), 1 << 16);
        Length = _stream.Length;
    }

    public long Length { get; }
    public long Position { get; private set; }
    long Remaining => Length - Position;

    public byte U8(string what) => Fill(1, what)[0];
    public ushort U16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Fill(2, what));
    public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Fill(4, what));
    public ulong U64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Fill(8, what));
    public float F32(string what) => BinaryPrimitives.ReadSingleLittleEndian(Fill(4, what));
    public double F64(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Fill(8, what));

    /// <summary>A gguf_string: uint64 byte count, then UTF-8 bytes (no terminator).</summary>
    public string String(string what)
    {
        ulong length = U64($"length of {what}");
        if (length > (ulong)Remaining)
            throw Error($"{what} claims {length} bytes but only {Remaining} remain (truncated or corrupt header)");
        var bytes = new byte[length];
        ReadExactly(bytes, what);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Error($"{what} is not valid UTF-8");
        }
    }

    /// <summary>Fails unless <paramref name="count"/> items of at least <paramref name="minBytes"/> each can still fit.</summary>
    public void CheckCount(ulong count, int minBytes, string what)
    {
        if (count > (ulong)(Remaining / minBytes))
            throw Error($"{what} is {count}, more than the {Remaining} bytes left could hold (truncated or corrupt header)");
    }

    public CheckpointFormatException Error(string message, string? tensor = null) => new(_path, message, tensor);

    ReadOnlySpan<byte> Fill(int count, string what)
    {
        ReadExactly(_scratch.AsSpan(0, count), what);
        return _scratch.AsSpan(0, count);
    }

    void ReadExactly(Span<byte> buffer, string what)
    {
        if (buffer.Length > Remaining)
            throw Error($"file ends at byte {Length} while reading {what} (truncated)");
        _stream.ReadExactly(buffer);
        Position += buffer.Length;
    }

    public void Dispose() => _stream.Dispose();
}
