using static TorchSharp.torch;

namespace PeftSharp.IO;

/// <summary>The element types a safetensors header names, and their TorchSharp equivalents.</summary>
public static class SafetensorsDType
{
    static readonly Dictionary<string, (ScalarType Type, int Size)> ByName = new(StringComparer.Ordinal)
    {
        ["F64"] = (ScalarType.Float64, 8),
        ["F32"] = (ScalarType.Float32, 4),
        ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2),
        ["I64"] = (ScalarType.Int64, 8),
        ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2),
        ["I8"] = (ScalarType.Int8, 1),
        ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    /// <summary>Every dtype name this reader and writer support.</summary>
    public static IEnumerable<string> Names => ByName.Keys;

    public static bool TryParse(string name, out ScalarType type, out int elementSize)
    {
        if (ByName.TryGetValue(name, out var entry))
        {
            (type, elementSize) = entry;
            return true;
        }
        (type, elementSize) = (default, 0);
        return false;
    }

    /// <summary>The header name of a TorchSharp element type, e.g. BF16 for bfloat16.</summary>
    public static string NameOf(ScalarType type)
    {
        foreach (var (name, entry) in ByName)
            if (entry.Type == type) return name;
        throw new ArgumentException($"safetensors has no dtype for {type}", nameof(type));
    }

    public static int SizeOf(ScalarType type) => ByName[NameOf(type)].Size;
}
