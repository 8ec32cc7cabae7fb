namespace PeftSharp.IO.Pickle;

/// <summary>
/// A pytorch_model.bin, or the shards a pytorch_model.bin.index.json lists, as one tensor source. Every shard's state
/// dict is unpickled (restricted: see <see cref="TorchCheckpointFile"/>) when opened; tensors are read one at a time.
/// </summary>
public sealed class PickleTensorSource : ITensorSource
{
    readonly List<TorchCheckpointFile> _files;
    readonly Dictionary<string, TorchCheckpointFile> _fileOf = new(StringComparer.Ordinal);

    PickleTensorSource(string description, List<TorchCheckpointFile> files)
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

    /// <summary>Opens a single torch.save checkpoint (pytorch_model.bin).</summary>
    /// <exception cref="CheckpointFormatException">Not a readable torch.save zip archive, or a pickle that is refused.</exception>
    public static PickleTensorSource OpenFile(string path) => new(path, new List<TorchCheckpointFile> { TorchCheckpointFile.Open(path) });

    /// <summary>
    /// Opens the shards of a pytorch_model.bin.index.json and checks that every tensor the index names is in the
    /// shard it names.
    /// </summary>
    public static PickleTensorSource OpenIndex(string indexPath)
    {
        var shards = ShardIndex.Read(indexPath);
        string directory = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var files = new List<TorchCheckpointFile>();
        try
        {
            foreach (var (shard, tensors) in shards)
            {
                string path = Path.Combine(directory, shard);
                if (!File.Exists(path)) throw new CheckpointFormatException(indexPath, $"shard '{shard}' named in weight_map does not exist");
                var file = TorchCheckpointFile.Open(path);
                files.Add(file);
                foreach (string tensor in tensors)
                    if (!file.Contains(tensor))
                        throw new CheckpointFormatException(indexPath, $"weight_map places it in '{shard}', which does not hold it", tensor);
            }
            return new PickleTensorSource(indexPath, files);
        }
        catch
        {
            foreach (var file in files) file.Dispose();
            throw;
        }
    }

    public TensorInfo Info(string name) => FileOf(name).Info(name);

    public TorchSharp.torch.Tensor Read(string name) => FileOf(name).Read(name);

    TorchCheckpointFile FileOf(string name) =>
        _fileOf.TryGetValue(name, out var file) ? file : throw new KeyNotFoundException($"{Description}: no tensor named '{name}'");

    public void Dispose()
    {
        foreach (var file in _files) file.Dispose();
    }
}
