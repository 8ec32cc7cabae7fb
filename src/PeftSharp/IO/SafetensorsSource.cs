namespace PeftSharp.IO;

/// <summary>One safetensors file, or the shards listed by a model.safetensors.index.json, as one tensor source.</summary>
public sealed class SafetensorsSource : ITensorSource
{
    readonly List<SafetensorsFile> _files;
    readonly Dictionary<string, SafetensorsFile> _fileOf = new(StringComparer.Ordinal);

    SafetensorsSource(string description, List<SafetensorsFile> files)
    {
        Description = description;
        _files = files;
        foreach (var file in files)
            foreach (string name in file.Names)
                if (!_fileOf.TryAdd(name, file))
                    throw new CheckpointFormatException(file.Path, $"also stored in {_fileOf[name].Path}", name);
    }

    public string Description { get; }
    public IReadOnlyCollection<string> Names => _fileOf.Keys;

    /// <summary>Opens a single safetensors file.</summary>
    public static SafetensorsSource OpenFile(string path) => new(path, new List<SafetensorsFile> { SafetensorsFile.Open(path) });

    /// <summary>
    /// Opens the shards of a Hugging Face index ({"metadata": {...}, "weight_map": {tensor: shard file}}) and checks
    /// that every tensor the index names is in the shard it names.
    /// </summary>
    public static SafetensorsSource OpenIndex(string indexPath)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var shardNames = ShardIndex.Read(indexPath);
        var files = new List<SafetensorsFile>();
        try
        {
            foreach (var (shard, tensors) in shardNames)
            {
                string path = Path.Combine(directory, shard);
                if (!File.Exists(path)) throw new CheckpointFormatException(indexPath, $"shard '{shard}' named in weight_map does not exist");
                var file = SafetensorsFile.Open(path);
                files.Add(file);
                foreach (string tensor in tensors)
                    if (!file.Contains(tensor))
                        throw new CheckpointFormatException(indexPath, $"weight_map places it in '{shard}', which does not hold it", tensor);
            }
            return new SafetensorsSource(indexPath, files);
        }
        catch
        {
            foreach (var file in files) file.Dispose();
            throw;
        }
    }

    public TensorInfo Info(string name)
    {
        var file = FileOf(name);
        var entry = file[name];
        return new TensorInfo(name, entry.Type, entry.Shape, file.Path);
    }

    public TorchSharp.torch.Tensor Read(string name) => FileOf(name).Read(name);

    /// <summary>Copies straight from the memory map when the destination has the stored dtype and is contiguous.</summary>
    public void ReadInto(string name, TorchSharp.torch.Tensor destination) => FileOf(name).ReadInto(name, destination);

    SafetensorsFile FileOf(string name) =>
        _fileOf.TryGetValue(name, out var file) ? file : throw new KeyNotFoundException($"{Description}: no tensor named '{name}'");

    public void Dispose()
    {
        foreach (var file in _files) file.Dispose();
    }
}
