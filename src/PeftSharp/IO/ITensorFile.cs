using static TorchSharp.torch;

namespace PeftSharp.IO;

/// <summary>One checkpoint file (a safetensors file, a torch.save archive) read one tensor at a time.</summary>
public interface ITensorFile : IDisposable
{
    string Path { get; }
    IEnumerable<string> Names { get; }
    bool Contains(string name);
    TensorInfo Info(string name);
    Tensor Read(string name);

    /// <summary>Fills <paramref name="destination"/> (same shape, any dtype) with a tensor.</summary>
    void ReadInto(string name, Tensor destination)
    {
        using var tensor = Read(name);
        using var _ = no_grad();
        destination.copy_(tensor);
    }
}
