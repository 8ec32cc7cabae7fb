using PeftSharp.Models.Llama;
using static TorchSharp.torch;

namespace PeftSharp.IO.Gguf;

/// <summary>
/// A Llama GGUF file seen as a Hugging Face Llama checkpoint: tensors under Hugging Face keys (see
/// <see cref="GgufLlama.HuggingFaceName"/>), in torch's dimension order, Q8_0/Q4_0 dequantised, and the q_proj and
/// k_proj rows put back in Hugging Face's rotary layout.
/// </summary>
/// <remarks>
/// llama.cpp rotates adjacent pairs (x[2i], x[2i+1]) of each head; Hugging Face rotates halves (x[i], x[i + d/2]).
/// Its converter therefore permutes the rows of each head's q and k projection,
/// <c>w.reshape(n_head, 2, d/2, in).swapaxes(1, 2)</c>; this source applies the inverse,
/// <c>w.reshape(n_head, d/2, 2, in).swapaxes(1, 2)</c>, with n_head = head_count for q and head_count_kv for k.
/// </remarks>
public sealed class GgufLlamaSource : ITensorSource
{
    readonly GgufFile _file;
    readonly bool _ownsFile;
    readonly Dictionary<string, string> _ggufName = new(StringComparer.Ordinal);
    readonly Dictionary<string, int> _permutedHeads = new(StringComparer.Ordinal);

    /// <summary>Views <paramref name="file"/> as a Hugging Face checkpoint; <paramref name="ownsFile"/> disposes it with this source.</summary>
    /// <exception cref="CheckpointFormatException">Not a Llama GGUF, a tensor with no Hugging Face equivalent, or q/k rows that do not split into heads.</exception>
    public GgufLlamaSource(GgufFile file, bool ownsFile = false)
    {
        _file = file;
        _ownsFile = ownsFile;
        Config = GgufLlama.Config(file);
        foreach (var tensor in file.Tensors)
        {
            string name = GgufLlama.HuggingFaceName(tensor.Name)
                ?? throw new CheckpointFormatException(file.Path, "has no Hugging Face Llama equivalent", tensor.Name);
            _ggufName[name] = tensor.Name;
            int heads = name.Contains(".self_attn.q_proj.") ? Config.NumHeads : name.Contains(".self_attn.k_proj.") ? Config.NumKeyValueHeads : 0;
            if (heads == 0) continue;
            long rows = tensor.Shape[0];
            if (rows % (2 * heads) != 0)
                throw new CheckpointFormatException(file.Path, $"has {rows} rows, which do not split into {heads} heads of an even size", tensor.Name);
            _permutedHeads[name] = heads;
        }
    }

    /// <summary>Opens a GGUF file as a Hugging Face Llama checkpoint (the source owns the file).</summary>
    public static GgufLlamaSource Open(string path)
    {
        var file = GgufFile.Open(path);
        try
        {
            return new GgufLlamaSource(file, ownsFile: true);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The config.json equivalent of the file's metadata.</summary>
    public LlamaConfig Config { get; }

    /// <summary>The underlying GGUF file.</summary>
    public GgufFile File => _file;

    public string Description => _file.Path;

    public IReadOnlyCollection<string> Names => _ggufName.Keys;

    public TensorInfo Info(string name)
    {
        var info = _file[GgufName(name)];
        return new TensorInfo(name, GgufFile.OutputType(info), info.Shape, _file.Path);
    }

    public Tensor Read(string name)
    {
        var tensor = _file.Read(GgufName(name));
        if (!_permutedHeads.TryGetValue(name, out int heads)) return tensor;
        using (tensor)
        {
            long rows = tensor.shape[0];
            // [n_head * d, ...] -> [n_head, d/2, 2, rest] -> [n_head, 2, d/2, rest] -> [n_head * d, ...]
            using var split = tensor.reshape(heads, rows / heads / 2, 2, -1);
            using var swapped = split.transpose(1, 2);
            return swapped.reshape(tensor.shape);
        }
    }

    string GgufName(string name) =>
        _ggufName.TryGetValue(name, out string? gguf) ? gguf : throw new KeyNotFoundException($"{Description}: no tensor named '{name}'");

    public void Dispose()
    {
        if (_ownsFile) _file.Dispose();
    }
}
