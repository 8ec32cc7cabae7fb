using static TorchSharp.torch;

namespace PeftSharp.IO;

/// <summary>Shape and element type of a stored tensor, and the file holding it.</summary>
public sealed record TensorInfo(string Name, ScalarType DType, long[] Shape, string File);

/// <summary>
/// A checkpoint seen as named tensors, read one at a time (safetensors, sharded safetensors, PyTorch .bin, GGUF).
/// </summary>
public interface ITensorSource : IDisposable
{
    /// <summary>What was opened (a path), for messages.</summary>
    string Description { get; }

    /// <summary>All tensor names.</summary>
    IReadOnlyCollection<string> Names { get; }

    /// <summary>Shape, dtype and file of a tensor, without reading it.</summary>
    TensorInfo Info(string name);

    /// <summary>Reads a tensor into new CPU memory, in its stored dtype.</summary>
    Tensor Read(string name);

    /// <summary>
    /// Fills <paramref name="destination"/> (same shape, any dtype) with a tensor, converting the element type on the
    /// way. Sources that can copy straight from their storage override this to skip the intermediate tensor.
    /// </summary>
    void ReadInto(string name, Tensor destination)
    {
        using var tensor = Read(name);
        using var _ = no_grad();
        destination.copy_(tensor);
    }
}
