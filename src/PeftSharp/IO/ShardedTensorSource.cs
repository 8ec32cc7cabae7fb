using static TorchSharp.torch;

namespace PeftSharp.IO;

/// <summary>
/// One checkpoint file, or the shards a Hugging Face index (model.safetensors.index.json,
/// pytorch_model.bin.index.json) lists, seen as one tensor source. A tensor stored in two shards, a shard the index
/// names but that is missing, or a tensor the index places in a shard that lacks it is an error naming the file.
/// </summary>
public abstract class ShardedTensorSource : ITensorSource
{
    readonly List<ITensorFile> _files;
    readonly Dictionary<string, ITensorFile> _fileOf = new(StringComparer.Ordinal);

    protected ShardedTensorSource(string description, IEnumerable<ITensorFile> files)
    {
        Description = description;
        _files = files.ToList();
        foreach (var file in _files)
            foreach (string name in file.Names)
                if (!_fileOf.TryAdd(name, file))
                    throw new CheckpointFormatException(file.Path, $"also stored in {_fileOf[name].Path}", name);
    }

    public string Description { get; }
    public IReadOnlyCollection<string> Names => _fileOf.Keys;

    public TensorInfo Info(string name) => FileOf(name).Info(name);
    public Tensor Read(string name) => FileOf(name).Read(name);
    public void ReadInto(string name, Tensor destination) => FileOf(name).ReadInto(name, destination);

    /// <summary>Opens the shards of an index with <paramref name="open"/> and checks them against the index.</summary>
    protected static List<ITensorFile> OpenShards(string indexPath, Func<string, ITensorFile> open)
    {
        var shards = ShardIndex.Read(indexPath);
        string directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(indexPath))!;
        var files = new List<ITensorFile>();
        try
        {
            foreach (var (shard, tensors) in shards)
            {
                string path = System.IO.Path.Combine(directory, shard);
                if (!File.Exists(path)) throw new CheckpointFormatException(indexPath, $"shard '{shard}' named in weight_map does not exist");
                var file = open(path);
                files.Add(file);
                foreach (string tensor in tensors)
                    if (!file.Contains(tensor))
                        throw new CheckpointFormatException(indexPath, $"weight_map places it in '{shard}', which does not hold it", tensor);
            }
            return files;
        }
        catch
        {
            foreach (var file in files) file.Dispose();
            throw;
        }
    }

    ITensorFile FileOf(string name) =>
        _fileOf.TryGetValue(name, out var file) ? file : throw new KeyNotFoundException($"{Description}: no tensor named '{name}'");

    public void Dispose()
    {
        foreach (var file in _files) file.Dispose();
        GC.SuppressFinalize(this);
    }
}
