namespace PeftSharp.IO.Pickle;

/// <summary>
/// A pytorch_model.bin, or the shards a pytorch_model.bin.index.json lists, as one tensor source. Every shard's state
/// dict is unpickled (restricted: see <see cref="TorchCheckpointFile"/>) when opened; tensors are read one at a time.
/// </summary>
public sealed class PickleTensorSource : ShardedTensorSource
{
    PickleTensorSource(string description, IEnumerable<ITensorFile> files) : base(description, files) { }

    /// <summary>Opens a single torch.save checkpoint (pytorch_model.bin).</summary>
    /// <exception cref="CheckpointFormatException">Not a readable torch.save zip archive, or a pickle that is refused.</exception>
    public static PickleTensorSource OpenFile(string path) => new(path, new[] { TorchCheckpointFile.Open(path) });

    /// <summary>Opens the shards of a pytorch_model.bin.index.json and checks them against the index.</summary>
    public static PickleTensorSource OpenIndex(string indexPath) => new(indexPath, OpenShards(indexPath, TorchCheckpointFile.Open));
}
