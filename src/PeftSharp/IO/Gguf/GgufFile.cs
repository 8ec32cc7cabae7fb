using System.Buffers.Binary;
using static TorchSharp.torch;

namespace PeftSharp.IO.Gguf;

/// <summary>
/// A GGUF file (llama.cpp's container, versions 2 and 3) opened for lazy reading: the header, metadata and tensor
/// table are parsed and checked when opened; tensor bytes are read from a memory map only when asked for.
/// </summary>
/// <remarks>
/// Layout (little-endian): magic "GGUF", uint32 version, uint64 tensor count, uint64 metadata count; metadata entries
/// (gguf_string key, uint32 value type, value; arrays are uint32 element type, uint64 count, elements); tensor infos
/// (name, uint32 n_dims, uint64 ne[n_dims] with ne[0] fastest-varying, uint32 ggml type, uint64 offset); padding to
/// general.alignment (default 32); the data section, in which every offset is a multiple of the alignment.
/// </remarks>
public sealed unsafe class GgufFile : IDisposable
{
    /// <summary>"GGUF" read as a little-endian uint32.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>Alignment of the data section and of tensor offsets when general.alignment is absent.</summary>
    public const int DefaultAlignment = 32;

    /// <summary>ggml's GGML_MAX_DIMS.</summary>
    public const int MaxDimensions = 4;

    /// <summary>The GGUF versions this reader accepts.</summary>
    public static readonly IReadOnlyList<uint> SupportedVersions = new uint[] { 2, 3 };

    readonly Dictionary<string, GgufTensorInfo> _byName;
    MappedFile? _mapped;

    GgufFile(string path, uint version, int alignment, GgufMetadata metadata, List<GgufTensorInfo> tensors, long dataOffset)
    {
        Path = path;
        Version = version;
        Alignment = alignment;
        Metadata = metadata;
        Tensors = tensors;
        DataOffset = dataOffset;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>GGUF version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>general.alignment, or 32.</summary>
    public int Alignment { get; }

    public GgufMetadata Metadata { get; }

    /// <summary>Tensor table entries in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>File position of the data section.</summary>
    public long DataOffset { get; }

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The table entry of a tensor.</summary>
    /// <exception cref="KeyNotFoundException">No tensor of that name.</exception>
    public GgufTensorInfo this[string name] =>
        _byName.TryGetValue(name, out var info) ? info : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    /// <summary>The element type a tensor reads as (float32 for quantised types).</summary>
    public static ScalarType OutputType(GgufTensorInfo info) => GgufTensorDecoder.OutputType(info.Type);

    /// <summary>Opens a GGUF file and validates its header, metadata and tensor table. Tensor bytes are not read.</summary>
    /// <exception cref="CheckpointFormatException">Not a GGUF file, an unsupported version or tensor type, truncation, bad offsets.</exception>
    public static GgufFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"GGUF file not found: {path}", path);
        using var reader = new GgufHeaderReader(path);
        uint version = ReadPreamble(reader);
        ulong tensorCount = reader.U64("tensor count");
        reader.CheckCount(tensorCount, 24, "tensor count");
        ulong metadataCount = reader.U64("metadata entry count");
        reader.CheckCount(metadataCount, 13, "metadata entry count");

        var values = new OrderedDictionary<string, object>(StringComparer.Ordinal);
        for (ulong i = 0; i < metadataCount; i++)
        {
            string key = reader.String($"key of metadata entry {i}");
            var type = reader.U32($"value type of metadata '{key}'");
            var value = ReadValue(reader, type, $"metadata '{key}'");
            if (!values.TryAdd(key, value)) throw reader.Error($"metadata '{key}' appears twice");
        }
        var metadata = new GgufMetadata(path, values);
        int alignment = ReadAlignment(metadata, reader);

        var infos = new List<(string Name, ulong[] Dimensions, uint Type, ulong Offset)>();
        for (ulong i = 0; i < tensorCount; i++)
        {
            string name = reader.String($"name of tensor {i}");
            uint dimensionCount = reader.U32($"dimension count of tensor '{name}'");
            if (dimensionCount > MaxDimensions)
                throw reader.Error($"has {dimensionCount} dimensions; GGUF allows at most {MaxDimensions}", name);
            var dimensions = new ulong[dimensionCount];
            for (int d = 0; d < dimensionCount; d++) dimensions[d] = reader.U64($"dimension {d} of tensor '{name}'");
            uint type = reader.U32($"type of tensor '{name}'");
            ulong offset = reader.U64($"offset of tensor '{name}'");
            infos.Add((name, dimensions, type, offset));
        }
        long dataOffset = (reader.Position + alignment - 1) / alignment * alignment;
        long dataLength = Math.Max(0, reader.Length - dataOffset);
        var tensors = new List<GgufTensorInfo>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, dimensions, type, offset) in infos)
        {
            if (!seen.Add(name)) throw reader.Error("appears twice in the tensor table", name);
            tensors.Add(CheckTensor(reader, name, dimensions, type, offset, alignment, dataLength));
        }
        return new GgufFile(path, version, alignment, metadata, tensors, dataOffset);
    }

    /// <summary>Reads one tensor into new CPU memory: plain types as stored, Q8_0 and Q4_0 dequantised to float32.</summary>
    public Tensor Read(string name)
    {
        var info = this[name];
        return GgufTensorDecoder.Decode(info, (_mapped ??= new MappedFile(Path)).Base + DataOffset + info.Offset);
    }

    public void Dispose()
    {
        _mapped?.Dispose();
        _mapped = null;
    }


    static uint ReadPreamble(GgufHeaderReader reader)
    {
        uint magic = reader.U32("magic");
        if (magic != Magic)
        {
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, magic);
            throw reader.Error($"bad magic 0x{Convert.ToHexString(bytes)}: not a GGUF file (expected 'GGUF', 0x47475546)");
        }
        uint version = reader.U32("version");
        if (SupportedVersions.Contains(version)) return version;
        string hint = version == 1 ? " (GGUF v1 used 32-bit counts; re-convert the model with a current llama.cpp)"
            : SupportedVersions.Contains(BinaryPrimitives.ReverseEndianness(version)) ? " (this is a big-endian GGUF file; only little-endian files are read)"
            : "";
        throw reader.Error($"GGUF version {version} is not supported (supported: {string.Join(", ", SupportedVersions)}){hint}");
    }

    static int ReadAlignment(GgufMetadata metadata, GgufHeaderReader reader)
    {
        const string key = "general.alignment";
        if (!metadata.Contains(key)) return DefaultAlignment;
        long alignment = metadata.Integer(key);
        if (alignment <= 0 || alignment > 1 << 30 || (alignment & (alignment - 1)) != 0)
            throw reader.Error($"metadata '{key}' is {alignment}; it must be a positive power of two");
        return (int)alignment;
    }

    static object ReadValue(GgufHeaderReader reader, uint type, string what) => (GgufValueType)type switch
    {
        GgufValueType.UInt8 => reader.U8(what),
        GgufValueType.Int8 => (sbyte)reader.U8(what),
        GgufValueType.UInt16 => reader.U16(what),
        GgufValueType.Int16 => (short)reader.U16(what),
        GgufValueType.UInt32 => reader.U32(what),
        GgufValueType.Int32 => (int)reader.U32(what),
        GgufValueType.UInt64 => reader.U64(what),
        GgufValueType.Int64 => (long)reader.U64(what),
        GgufValueType.Float32 => reader.F32(what),
        GgufValueType.Float64 => reader.F64(what),
        GgufValueType.Bool => reader.U8(what) switch
        {
            0 => false,
            1 => true,
            var b => throw reader.Error($"{what} is a bool stored as {b}; GGUF bools are 0 or 1"),
        },
        GgufValueType.String => reader.String(what),
        GgufValueType.Array => ReadArray(reader, what),
        _ => throw reader.Error($"{what} has unknown value type {type}"),
    };

    static Array ReadArray(GgufHeaderReader reader, string what)
    {
        uint elementType = reader.U32($"element type of {what}");
        ulong count = reader.U64($"length of {what}");
        int minBytes = (GgufValueType)elementType switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
            GgufValueType.Array => 12,
            _ => throw reader.Error($"{what} is an array of unknown value type {elementType}"),
        };
        reader.CheckCount(count, minBytes, $"length of {what}");
        int length = (int)count;
        Array Fill<T>(Func<int, T> read)
        {
            var items = new T[length];
            for (int i = 0; i < length; i++) items[i] = read(i);
            return items;
        }
        string Item(int i) => $"{what}[{i}]";
        return (GgufValueType)elementType switch
        {
            GgufValueType.UInt8 => Fill(i => reader.U8(Item(i))),
            GgufValueType.Int8 => Fill(i => (sbyte)reader.U8(Item(i))),
            GgufValueType.UInt16 => Fill(i => reader.U16(Item(i))),
            GgufValueType.Int16 => Fill(i => (short)reader.U16(Item(i))),
            GgufValueType.UInt32 => Fill(i => reader.U32(Item(i))),
            GgufValueType.Int32 => Fill(i => (int)reader.U32(Item(i))),
            GgufValueType.UInt64 => Fill(i => reader.U64(Item(i))),
            GgufValueType.Int64 => Fill(i => (long)reader.U64(Item(i))),
            GgufValueType.Float32 => Fill(i => reader.F32(Item(i))),
            GgufValueType.Float64 => Fill(i => reader.F64(Item(i))),
            GgufValueType.Bool => Fill(i => (bool)ReadValue(reader, elementType, Item(i))),
            GgufValueType.String => Fill(i => reader.String(Item(i))),
            _ => Fill(i => ReadValue(reader, elementType, Item(i))),
        };
    }

    static GgufTensorInfo CheckTensor(GgufHeaderReader reader, string name, ulong[] dimensions, uint type, ulong offset, int alignment, long dataLength)
    {
        var tensorType = (GgufTensorType)type;
        if (!GgufTensorDecoder.IsSupported(tensorType))
        {
            string typeName = Enum.IsDefined(tensorType) ? $"{tensorType} ({type})" : $"{type} (unknown to this reader)";
            throw reader.Error($"type {typeName} is not supported (supported: {GgufTensorDecoder.SupportedNames})", name);
        }
        string shape = $"ne [{string.Join(", ", dimensions)}]";
        long elements, bytes;
        try
        {
            elements = dimensions.Aggregate(1L, (a, d) => checked(a * checked((long)d)));
            bytes = GgufTensorDecoder.ByteLength(tensorType, elements);
        }
        catch (OverflowException)
        {
            throw reader.Error($"{shape} is too large", name);
        }
        int block = GgufTensorDecoder.BlockElements(tensorType);
        if (dimensions.Length > 0 && dimensions[0] % (ulong)block != 0)
            throw reader.Error($"{shape}: a {tensorType} row (ne[0]) must hold whole blocks of {block} values", name);
        if (offset % (ulong)alignment != 0)
            throw reader.Error($"offset {offset} is not a multiple of the alignment {alignment}", name);
        if (offset > (ulong)dataLength || (long)offset + bytes > dataLength)
            throw reader.Error($"data [{offset}, {offset + (ulong)bytes}) runs past the end of the data section ({dataLength} bytes): offset out of range or file truncated", name);
        return new GgufTensorInfo(name, dimensions.Select(d => (long)d).ToArray(), tensorType, (long)offset, bytes);
    }
}
