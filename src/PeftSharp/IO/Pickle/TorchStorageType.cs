using static TorchSharp.torch;

namespace PeftSharp.IO.Pickle;

/// <summary>
/// The element type of a torch storage, as a checkpoint names it: a storage class (<c>torch.FloatStorage</c>,
/// <c>torch.storage.UntypedStorage</c>, ...) or, in files written by newer torch, a dtype (<c>torch.float32</c>).
/// </summary>
internal sealed class TorchStorageType : PickleGlobal
{
    TorchStorageType(string qualifiedName, ScalarType type, int elementSize) : base(qualifiedName)
    {
        Type = type;
        ElementSize = elementSize;
    }

    /// <summary>The TorchSharp element type.</summary>
    public ScalarType Type { get; }

    /// <summary>Bytes per element.</summary>
    public int ElementSize { get; }

    static readonly (ScalarType Type, int Size, string Storage, string[] DTypes)[] Table =
    {
        (ScalarType.Float32, 4, "FloatStorage", new[] { "float32", "float" }),
        (ScalarType.Float64, 8, "DoubleStorage", new[] { "float64", "double" }),
        (ScalarType.Float16, 2, "HalfStorage", new[] { "float16", "half" }),
        (ScalarType.BFloat16, 2, "BFloat16Storage", new[] { "bfloat16" }),
        (ScalarType.Int64, 8, "LongStorage", new[] { "int64", "long" }),
        (ScalarType.Int32, 4, "IntStorage", new[] { "int32", "int" }),
        (ScalarType.Int16, 2, "ShortStorage", new[] { "int16", "short" }),
        (ScalarType.Int8, 1, "CharStorage", new[] { "int8" }),
        (ScalarType.Byte, 1, "ByteStorage", new[] { "uint8" }),
        (ScalarType.Bool, 1, "BoolStorage", new[] { "bool" }),
    };

    /// <summary>Storage class names this reader supports, for messages.</summary>
    public static IEnumerable<string> SupportedNames => Table.Select(t => $"torch.{t.Storage}").Append("torch.UntypedStorage");

    /// <summary>
    /// The storage type or dtype a global names, null when the global is neither. Storage classes are looked up by
    /// name, as torch.load does (any torch module: torch.FloatStorage, torch.cuda.FloatStorage).
    /// </summary>
    /// <exception cref="InvalidDataException">A torch storage class this reader cannot read (e.g. QInt8Storage).</exception>
    public static TorchStorageType? TryResolve(string module, string name)
    {
        if (module != "torch" && !module.StartsWith("torch.", StringComparison.Ordinal)) return null;
        string qualified = $"{module}.{name}";
        if (name == "UntypedStorage") return new TorchStorageType(qualified, ScalarType.Byte, 1);
        foreach (var (type, size, storage, dtypes) in Table)
        {
            if (name == storage) return new TorchStorageType(qualified, type, size);
            if (module == "torch" && dtypes.Contains(name)) return new TorchStorageType(qualified, type, size);
        }
        if (name.EndsWith("Storage", StringComparison.Ordinal))
            throw new InvalidDataException($"storage type '{qualified}' is not supported (supported: {string.Join(", ", SupportedNames)})");
        return null;
    }
}
