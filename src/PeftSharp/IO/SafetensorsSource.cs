namespace PeftSharp.IO;

/// <summary>One safetensors file, or the shards listed by a model.safetensors.index.json, as one tensor source.</summary>
public sealed class SafetensorsSource : ShardedTensorSource
{
    SafetensorsSource(string description, IEnumerable<ITensorFile> files) : base(description, files) { }

    /// <summary>Opens a single safetensors file.</summary>
    public static SafetensorsSource OpenFile(string path) => new(path, new[] { SafetensorsFile.Open(path) });

    /// <summary>Opens the shards of a Hugging Face index and checks that every tensor it names is in the shard it names.</summary>
    public static SafetensorsSource OpenIndex(string indexPath) => new(indexPath, OpenShards(indexPath, SafetensorsFile.Open));
}
