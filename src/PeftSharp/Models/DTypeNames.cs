using static TorchSharp.torch;

namespace PeftSharp.Models;

/// <summary>Hugging Face's dtype names ("float32", "bfloat16", "float16") and their TorchSharp types.</summary>
public static class DTypeNames
{
    static readonly Dictionary<string, ScalarType> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["float32"] = ScalarType.Float32, ["fp32"] = ScalarType.Float32, ["float"] = ScalarType.Float32,
        ["bfloat16"] = ScalarType.BFloat16, ["bf16"] = ScalarType.BFloat16,
        ["float16"] = ScalarType.Float16, ["fp16"] = ScalarType.Float16, ["half"] = ScalarType.Float16,
        ["float64"] = ScalarType.Float64,
    };

    public static bool TryParse(string name, out ScalarType type) => ByName.TryGetValue(name, out type);

    /// <exception cref="ArgumentException">Unknown name; lists the accepted ones.</exception>
    public static ScalarType Parse(string name) =>
        TryParse(name, out var type) ? type : throw new ArgumentException($"unknown dtype '{name}' (use float32, bfloat16 or float16)", nameof(name));

    public static string ToHuggingFace(ScalarType type) => type switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        ScalarType.Float64 => "float64",
        _ => throw new ArgumentException($"{type} is not a model dtype", nameof(type)),
    };
}
