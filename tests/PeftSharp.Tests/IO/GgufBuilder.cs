using System.Text;
using PeftSharp.IO.Gguf;

namespace PeftSharp.Tests.IO;

/// <summary>Writes small GGUF files for tests, including deliberately broken ones.</summary>
public sealed class GgufBuilder
{
    readonly List<(string Key, object Value)> _metadata = new();
    readonly List<(string Name, long[] Dimensions, uint Type, byte[] Data, ulong? Offset)> _tensors = new();

    public byte[] Magic { get; set; } = "GGUF"u8.ToArray();
    public uint Version { get; set; } = 3;

    /// <summary>Alignment used for padding; written as general.alignment when not 32.</summary>
    public int Alignment { get; set; } = 32;

    /// <summary>Adds a metadata entry; the GGUF type follows the .NET type (arrays of those types, or object[] of arrays).</summary>
    public GgufBuilder Meta(string key, object value)
    {
        _metadata.Add((key, value));
        return this;
    }

    /// <summary>Adds a tensor with GGUF dimensions (ne[0] first) and raw bytes; <paramref name="offset"/> overrides its placement.</summary>
    public GgufBuilder Tensor(string name, long[] dimensions, GgufTensorType type, byte[] data, ulong? offset = null) =>
        Tensor(name, dimensions, (uint)type, data, offset);

    public GgufBuilder Tensor(string name, long[] dimensions, uint type, byte[] data, ulong? offset = null)
    {
        _tensors.Add((name, dimensions, type, data, offset));
        return this;
    }

    /// <summary>A float32 tensor of torch shape <paramref name="shape"/> (written with reversed dimensions).</summary>
    public GgufBuilder F32(string name, long[] shape, float[] values) =>
        Tensor(name, shape.Reverse().ToArray(), GgufTensorType.F32, values.SelectMany(BitConverter.GetBytes).ToArray());

    public byte[] Build()
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write((ulong)_tensors.Count);
        var metadata = Alignment == GgufFile.DefaultAlignment ? _metadata : _metadata.Append(("general.alignment", (object)(uint)Alignment)).ToList();
        writer.Write((ulong)metadata.Count);
        foreach (var (key, value) in metadata)
        {
            WriteString(writer, key);
            writer.Write((uint)TypeOf(value));
            WriteValue(writer, value);
        }
        var offsets = new List<ulong>();
        ulong position = 0;
        foreach (var tensor in _tensors)
        {
            offsets.Add(tensor.Offset ?? position);
            position += (ulong)((tensor.Data.Length + Alignment - 1) / Alignment * Alignment);
        }
        for (int i = 0; i < _tensors.Count; i++)
        {
            var (name, dimensions, type, _, _) = _tensors[i];
            WriteString(writer, name);
            writer.Write((uint)dimensions.Length);
            foreach (long d in dimensions) writer.Write((ulong)d);
            writer.Write(type);
            writer.Write(offsets[i]);
        }
        Pad(writer);
        foreach (var tensor in _tensors)
        {
            writer.Write(tensor.Data);
            Pad(writer);
        }
        writer.Flush();
        return stream.ToArray();
    }

    /// <summary>Writes the file (optionally only its first <paramref name="length"/> bytes) and returns its path.</summary>
    public string Write(string path, int? length = null)
    {
        var bytes = Build();
        File.WriteAllBytes(path, length is int n ? bytes[..n] : bytes);
        return path;
    }

    void Pad(BinaryWriter writer)
    {
        while (writer.BaseStream.Position % Alignment != 0) writer.Write((byte)0);
    }

    static void WriteString(BinaryWriter writer, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        writer.Write((ulong)bytes.Length);
        writer.Write(bytes);
    }

    static readonly Dictionary<Type, GgufValueType> Types = new()
    {
        [typeof(byte)] = GgufValueType.UInt8, [typeof(sbyte)] = GgufValueType.Int8, [typeof(ushort)] = GgufValueType.UInt16,
        [typeof(short)] = GgufValueType.Int16, [typeof(uint)] = GgufValueType.UInt32, [typeof(int)] = GgufValueType.Int32,
        [typeof(ulong)] = GgufValueType.UInt64, [typeof(long)] = GgufValueType.Int64, [typeof(float)] = GgufValueType.Float32,
        [typeof(double)] = GgufValueType.Float64, [typeof(bool)] = GgufValueType.Bool, [typeof(string)] = GgufValueType.String,
        [typeof(object)] = GgufValueType.Array, // object[] holds nested arrays
    };

    static GgufValueType TypeOf(object value) => value is Array ? GgufValueType.Array : Types[value.GetType()];

    static void WriteValue(BinaryWriter writer, object value)
    {
        switch (value)
        {
            case byte v: writer.Write(v); break;
            case sbyte v: writer.Write(v); break;
            case ushort v: writer.Write(v); break;
            case short v: writer.Write(v); break;
            case uint v: writer.Write(v); break;
            case int v: writer.Write(v); break;
            case ulong v: writer.Write(v); break;
            case long v: writer.Write(v); break;
            case float v: writer.Write(v); break;
            case double v: writer.Write(v); break;
            case bool v: writer.Write((byte)(v ? 1 : 0)); break;
            case string v: WriteString(writer, v); break;
            case Array array:
                writer.Write((uint)Types[array.GetType().GetElementType()!]);
                writer.Write((ulong)array.Length);
                foreach (var item in array) WriteValue(writer, item!);
                break;
        }
    }

    /// <summary>The metadata of a minimal valid Llama GGUF: 1 layer, hidden 8, 2 heads, 1 kv head, vocab 4.</summary>
    public static GgufBuilder TinyLlama(string architecture = "llama")
    {
        var builder = new GgufBuilder()
            .Meta("general.architecture", architecture)
            .Meta($"{architecture}.embedding_length", 8u).Meta($"{architecture}.feed_forward_length", 4u)
            .Meta($"{architecture}.block_count", 1u).Meta($"{architecture}.attention.head_count", 2u)
            .Meta($"{architecture}.attention.head_count_kv", 1u).Meta($"{architecture}.attention.layer_norm_rms_epsilon", 1e-6f)
            .Meta($"{architecture}.context_length", 16u);
        float[] Values(long count) => Enumerable.Range(0, (int)count).Select(i => i * 0.01f).ToArray();
        foreach (var (name, shape) in new (string, long[])[]
        {
            ("token_embd.weight", new long[] { 4, 8 }), ("output_norm.weight", new long[] { 8 }),
            ("blk.0.attn_q.weight", new long[] { 8, 8 }), ("blk.0.attn_k.weight", new long[] { 4, 8 }),
            ("blk.0.attn_v.weight", new long[] { 4, 8 }), ("blk.0.attn_output.weight", new long[] { 8, 8 }),
            ("blk.0.ffn_gate.weight", new long[] { 4, 8 }), ("blk.0.ffn_up.weight", new long[] { 4, 8 }),
            ("blk.0.ffn_down.weight", new long[] { 8, 4 }), ("blk.0.attn_norm.weight", new long[] { 8 }),
            ("blk.0.ffn_norm.weight", new long[] { 8 }),
        })
            builder.F32(name, shape, Values(shape.Aggregate(1L, (a, b) => a * b)));
        return builder;
    }
}
