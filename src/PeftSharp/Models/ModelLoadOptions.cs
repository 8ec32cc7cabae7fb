using static TorchSharp.torch;

namespace PeftSharp.Models;

/// <summary>How <see cref="AutoModel"/> builds and fills a model.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>The head to build; null takes it from config.json "architectures" (bare model if none).</summary>
    public ModelTask? Task { get; init; }

    /// <summary>Compute dtype; null takes config.json "torch_dtype" where the CPU computes it fast (bfloat16 with avx512_bf16/AMX), else float32.</summary>
    public ScalarType? DType { get; init; }

    /// <summary>Fail on missing or unexpected tensors (default). Shape mismatches always fail.</summary>
    public bool Strict { get; init; } = true;

    /// <summary>Labels of a new classification head, replacing those in config.json.</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>Seed for initialising tensors the checkpoint lacks (a new head).</summary>
    public long? Seed { get; init; }
}
