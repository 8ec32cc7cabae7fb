using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace PeftSharp.IO;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">Tensor name, e.g. "model.layers.0.self_attn.q_proj.weight".</param>
/// <param name="DType">Header dtype name, e.g. "BF16".</param>
/// <param name="Type">The TorchSharp element type.</param>
/// <param name="Shape">Dimensions; empty for a scalar.</param>
/// <param name="Begin">Start of the tensor's bytes, relative to the data section.</param>
/// <param name="End">End (exclusive) of the tensor's bytes.</param>
public sealed record SafetensorsEntry(string Name, string DType, ScalarType Type, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}

/// <summary>
/// A safetensors file opened for lazy reading: the header is parsed and checked as Python's safetensors does
/// (dtype, shape, offsets that tile the data section exactly), and each tensor is copied out of a memory map
/// only when asked for.
/// </summary>
/// <remarks>
/// Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data section.
/// </remarks>
public sealed unsafe class SafetensorsFile : ITensorFile
{
    /// <summary>Python's safetensors refuses headers above 100 MB; so does this reader.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    readonly Dictionary<string, SafetensorsEntry> _byName;
    readonly long _dataStart;
    MappedFile? _mapped;

    /// <summary>Address of the data section (maps the file on first use).</summary>
    byte* DataSection => (_mapped ??= new MappedFile(Path)).Base + _dataStart;

    SafetensorsFile(string path, List<SafetensorsEntry> entries, Dictionary<string, string> metadata, long dataStart)
    {
        Path = path;
        Entries = entries;
        Metadata = metadata;
        _dataStart = dataStart;
        _byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>The string-to-string <c>__metadata__</c> map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensor entries in the order of their bytes in the file.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>Names of all tensors.</summary>
    public IEnumerable<string> Names => Entries.Select(e => e.Name);

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The header entry of a tensor.</summary>
    /// <exception cref="KeyNotFoundException">No tensor of that name.</exception>
    public SafetensorsEntry this[string name] =>
        _byName.TryGetValue(name, out var entry) ? entry : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    IEnumerable<string> ITensorFile.Names => Names;

    public TensorInfo Info(string name)
    {
        var entry = this[name];
        return new TensorInfo(name, entry.Type, entry.Shape, Path);
    }

    /// <summary>Opens a file and validates its header. Tensor bytes are not read.</summary>
    /// <exception cref="CheckpointFormatException">The file is not a valid safetensors file.</exception>
    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"safetensors file not found: {path}", path);
        long fileLength = new FileInfo(path).Length;
        if (fileLength < 8)
            throw new CheckpointFormatException(path, $"file is {fileLength} bytes; a safetensors file starts with an 8-byte header length");
        byte[] header;
        using (var stream = File.OpenRead(path))
        {
            Span<byte> lengthBytes = stackalloc byte[8];
            stream.ReadExactly(lengthBytes);
            ulong headerLength = BitConverter.ToUInt64(lengthBytes);
            if (headerLength > MaxHeaderBytes)
                throw new CheckpointFormatException(path, $"header length {headerLength} is above the {MaxHeaderBytes}-byte limit (corrupt or not a safetensors file)");
            if ((long)headerLength > fileLength - 8)
                throw new CheckpointFormatException(path, $"header length {headerLength} runs past the end of the file ({fileLength} bytes)");
            header = new byte[headerLength];
            stream.ReadExactly(header);
        }
        long dataStart = 8 + header.Length;
        var (entries, metadata) = ParseHeader(path, header, fileLength - dataStart);
        return new SafetensorsFile(path, entries, metadata, dataStart);
    }

    /// <summary>Reads one tensor, in its stored dtype, into new CPU memory.</summary>
    public Tensor Read(string name)
    {
        var entry = this[name];
        var tensor = empty(entry.Shape, entry.Type);
        NativeTensorMemory.CopyInto(tensor, DataSection + entry.Begin, entry.ByteLength);
        return tensor;
    }

    /// <summary>
    /// Fills <paramref name="destination"/> (same shape) with a tensor: a single copy out of the memory map when the
    /// dtypes agree and the destination is contiguous, else one read and one converting copy.
    /// </summary>
    public void ReadInto(string name, Tensor destination)
    {
        var entry = this[name];
        if (!destination.shape.SequenceEqual(entry.Shape))
            throw new ArgumentException($"{Path}: '{name}' is [{string.Join(", ", entry.Shape)}], destination is [{string.Join(", ", destination.shape)}]");
        using var _ = no_grad();
        if (destination.dtype == entry.Type && destination.is_contiguous() && destination.device_type == TorchSharp.DeviceType.CPU)
        {
            NativeTensorMemory.CopyInto(destination, DataSection + entry.Begin, entry.ByteLength);
            return;
        }
        using var stored = Read(name);
        destination.copy_(stored);
    }

    /// <summary>Reads every tensor (for small files: adapters, reference outputs).</summary>
    public Dictionary<string, Tensor> ReadAll() => Entries.ToDictionary(e => e.Name, e => Read(e.Name), StringComparer.Ordinal);


    public void Dispose()
    {
        _mapped?.Dispose();
        _mapped = null;
    }

    static (List<SafetensorsEntry>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(header);
        }
        catch (DecoderFallbackException e)
        {
            throw new CheckpointFormatException(path, "header is not valid UTF-8", inner: e);
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"header is not JSON ({e.Message})", inner: e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(path, $"header must be a JSON object, found {document.RootElement.ValueKind}");
            var entries = new List<SafetensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new CheckpointFormatException(path, "appears twice in the header", property.Name);
                if (property.Name == "__metadata__")
                    ReadMetadata(path, property.Value, metadata);
                else
                    entries.Add(ParseEntry(path, property.Name, property.Value, dataLength));
            }
            CheckTiling(path, entries, dataLength);
            return (entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList(), metadata);
        }
    }

    static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointFormatException(path, "__metadata__ must be an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointFormatException(path, $"__metadata__ value of '{item.Name}' must be a string, found {item.Value.ValueKind}");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    static SafetensorsEntry ParseEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointFormatException(path, "header entry must be an object with dtype, shape and data_offsets", name);
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new CheckpointFormatException(path, "missing string field 'dtype'", name);
        string dtype = dtypeElement.GetString()!;
        if (!SafetensorsDType.TryParse(dtype, out var type, out int elementSize))
            throw new CheckpointFormatException(path, $"unknown dtype '{dtype}' (supported: {string.Join(", ", SafetensorsDType.Names)})", name);
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new CheckpointFormatException(path, "missing array field 'shape'", name);
        var shape = new long[shapeElement.GetArrayLength()];
        int i = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long size) || size < 0)
                throw new CheckpointFormatException(path, $"shape [{shapeElement.GetRawText()}] must hold non-negative integers", name);
            shape[i++] = size;
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new CheckpointFormatException(path, "missing field 'data_offsets' of two integers", name);
        var bounds = offsets.EnumerateArray().Select(o => o.ValueKind == JsonValueKind.Number && o.TryGetInt64(out long v) && v >= 0 ? v : -1).ToArray();
        if (bounds[0] < 0 || bounds[1] < 0)
            throw new CheckpointFormatException(path, $"data_offsets {offsets.GetRawText()} must be non-negative integers", name);
        long begin = bounds[0], end = bounds[1];
        if (end < begin)
            throw new CheckpointFormatException(path, $"data_offsets [{begin}, {end}] end before they begin", name);
        if (end > dataLength)
            throw new CheckpointFormatException(path, $"data_offsets [{begin}, {end}] run past the data section ({dataLength} bytes)", name);
        long expected;
        try
        {
            expected = checked(shape.Aggregate(1L, (a, b) => a * b) * elementSize);
        }
        catch (OverflowException)
        {
            throw new CheckpointFormatException(path, $"shape [{string.Join(", ", shape)}] is too large", name);
        }
        if (expected != end - begin)
            throw new CheckpointFormatException(path,
                $"shape [{string.Join(", ", shape)}] x {dtype} needs {expected} bytes but data_offsets [{begin}, {end}] hold {end - begin}", name);
        return new SafetensorsEntry(name, dtype, type, shape, begin, end);
    }

    /// <summary>The entries' byte ranges must cover the data section exactly, with no overlap and no gap.</summary>
    static void CheckTiling(string path, List<SafetensorsEntry> entries, long dataLength)
    {
        long position = 0;
        SafetensorsEntry? previous = null;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin < position)
                throw new CheckpointFormatException(path, $"data_offsets [{entry.Begin}, {entry.End}] overlap those of '{previous!.Name}' [{previous.Begin}, {previous.End}]", entry.Name);
            if (entry.Begin > position)
                throw new CheckpointFormatException(path, $"data_offsets [{entry.Begin}, {entry.End}] leave a gap after byte {position} of the data section", entry.Name);
            position = entry.End;
            previous = entry;
        }
        if (position != dataLength)
            throw new CheckpointFormatException(path, $"tensors cover {position} bytes but the data section holds {dataLength} (truncated or trailing data)");
    }
}
