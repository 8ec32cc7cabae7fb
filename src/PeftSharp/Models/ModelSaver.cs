using System.Text.Json;
using PeftSharp.IO;
using static TorchSharp.torch;

namespace PeftSharp.Models;

/// <summary>Writes a model as a Hugging Face directory: config.json and model.safetensors (sharded above a size).</summary>
public static class ModelSaver
{
    /// <summary>Default largest shard, as transformers' save_pretrained.</summary>
    public const long DefaultMaxShardBytes = 5L * 1024 * 1024 * 1024;

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// Saves <paramref name="model"/> into <paramref name="directory"/>. Tied parameters are written once (under their
    /// source key) and non-persistent buffers not at all, as Hugging Face does. Each file appears only when complete.
    /// </summary>
    public static void Save(TransformerModel model, string directory, long maxShardBytes = DefaultMaxShardBytes, ScalarType? dtype = null)
    {
        if (maxShardBytes <= 0) throw new ArgumentOutOfRangeException(nameof(maxShardBytes), "shard size must be positive");
        Directory.CreateDirectory(directory);
        var tensors = StateToSave(model);
        var saveType = dtype ?? model.DType;
        var converted = tensors.Select(t => new KeyValuePair<string, Tensor>(t.Key, t.Value.is_floating_point() ? t.Value.to(saveType) : t.Value)).ToList();
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };

        var shards = Shard(converted, maxShardBytes);
        if (shards.Count == 1)
        {
            SafetensorsWriter.Save(Path.Combine(directory, "model.safetensors"), shards[0], metadata);
            DeleteIfExists(Path.Combine(directory, "model.safetensors.index.json"));
        }
        else
        {
            var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < shards.Count; i++)
            {
                string name = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
                SafetensorsWriter.Save(Path.Combine(directory, name), shards[i], metadata);
                foreach (var (key, _) in shards[i]) weightMap[key] = name;
            }
            long total = converted.Sum(t => t.Value.numel() * t.Value.element_size());
            var index = new { metadata = new { total_size = total }, weight_map = weightMap };
            AtomicFile.WriteText(Path.Combine(directory, "model.safetensors.index.json"), JsonSerializer.Serialize(index, Indented));
            DeleteIfExists(Path.Combine(directory, "model.safetensors"));
        }
        var config = model.Config.ToJson(model.Architecture, saveType);
        AtomicFile.WriteText(Path.Combine(directory, "config.json"), config.ToJsonString(Indented));
    }

    /// <summary>The tensors a checkpoint of this model holds, by Hugging Face key.</summary>
    public static Dictionary<string, Tensor> StateToSave(TransformerModel model)
    {
        var state = model.state_dict();
        foreach (string tied in model.TiedParameters.Keys) state.Remove(tied);
        foreach (string key in model.NonPersistentKeys) state.Remove(key);
        return state;
    }

    static List<List<KeyValuePair<string, Tensor>>> Shard(List<KeyValuePair<string, Tensor>> tensors, long maxShardBytes)
    {
        var shards = new List<List<KeyValuePair<string, Tensor>>> { new() };
        long size = 0;
        foreach (var item in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            long bytes = item.Value.numel() * item.Value.element_size();
            if (size > 0 && size + bytes > maxShardBytes)
            {
                shards.Add(new List<KeyValuePair<string, Tensor>>());
                size = 0;
            }
            shards[^1].Add(item);
            size += bytes;
        }
        return shards;
    }

    static void DeleteIfExists(string path)
    {
        if (File.Exists(path)) File.Delete(path);
    }
}
