using System.Text.Json;
using static TorchSharp.torch;

namespace PeftSharp.IO;

/// <summary>
/// Writes safetensors files that Python's safetensors reads: compact JSON header padded with spaces to a
/// multiple of 8 bytes, tensors ordered by element size (largest first) then name so each stays aligned.
/// The file appears only when complete (written to a temporary file, then renamed).
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> (any device, dtype and layout) to <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">Two tensors share a name, or a dtype safetensors cannot store.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var items = new List<(string Name, Tensor Tensor, string DType, int Size)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (!names.Add(name)) throw new ArgumentException($"tensor name '{name}' appears twice", nameof(tensors));
            if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor", nameof(tensors));
            string dtype = SafetensorsDType.NameOf(tensor.dtype);
            items.Add((name, tensor, dtype, SafetensorsDType.SizeOf(tensor.dtype)));
        }
        items.Sort((a, b) => a.Size != b.Size ? b.Size.CompareTo(a.Size) : string.CompareOrdinal(a.Name, b.Name));

        byte[] header = BuildHeader(items.Select(i => (i.Name, i.DType, i.Tensor.shape, (long)i.Tensor.numel() * i.Size)), metadata);
        string? directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory != null) Directory.CreateDirectory(directory);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(BitConverter.GetBytes((ulong)header.Length));
            stream.Write(header);
            foreach (var item in items)
            {
                using var scope = NewDisposeScope();
                var cpu = item.Tensor.detach().cpu().contiguous();
                NativeTensorMemory.WriteTo(cpu, stream);
            }
        });
    }

    static byte[] BuildHeader(IEnumerable<(string Name, string DType, long[] Shape, long Bytes)> items, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata.OrderBy(m => m.Key, StringComparer.Ordinal)) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, shape, bytes) in items)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                foreach (long dim in shape) json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        int length = (int)buffer.Length;
        int padded = (length + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.ToArray().CopyTo(header, 0);
        for (int i = length; i < padded; i++) header[i] = (byte)' ';
        return header;
    }
}
