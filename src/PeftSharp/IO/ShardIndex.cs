using System.Text.Json.Nodes;
using PeftSharp.Models;

namespace PeftSharp.IO;

/// <summary>
/// A Hugging Face shard index ({"metadata": {...}, "weight_map": {tensor: shard file}}), the format of both
/// model.safetensors.index.json and pytorch_model.bin.index.json.
/// </summary>
internal static class ShardIndex
{
    /// <summary>Shard file names (beside the index) and the tensors the index places in each, in index order.</summary>
    /// <exception cref="ConfigException">No weight_map, an entry that is not a file name beside the index, or no tensors.</exception>
    public static IReadOnlyDictionary<string, List<string>> Read(string indexPath)
    {
        var index = ConfigReader.FromFile(indexPath);
        var map = index.ObjectOrNull("weight_map") ?? throw new ConfigException(indexPath, "weight_map", "is required but missing");
        var shards = new OrderedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (tensor, node) in map.Root)
        {
            if (node is not JsonValue value || !value.TryGetValue(out string? shard) || string.IsNullOrEmpty(shard))
                throw new ConfigException(indexPath, "weight_map", $"entry '{tensor}' must name a shard file");
            if (shard.Contains('/') || shard.Contains('\\') || shard.Contains(".."))
                throw new ConfigException(indexPath, "weight_map", $"entry '{tensor}' names '{shard}', which is not a file beside the index");
            if (!shards.TryGetValue(shard, out var list)) shards[shard] = list = new List<string>();
            list.Add(tensor);
        }
        if (shards.Count == 0) throw new ConfigException(indexPath, "weight_map", "lists no tensors");
        return shards;
    }
}
