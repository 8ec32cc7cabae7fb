namespace PeftSharp.IO;

/// <summary>Finds and opens the weights of a Hugging Face model directory.</summary>
public static class CheckpointDirectory
{
    /// <summary>File names looked for, in order of preference.</summary>
    public static readonly IReadOnlyList<string> WeightFiles = new[]
    {
        "model.safetensors.index.json", "model.safetensors", "pytorch_model.bin.index.json", "pytorch_model.bin",
    };

    /// <summary>Reader of each weights file name.</summary>
    static readonly Dictionary<string, Func<string, ITensorSource>> Openers = new(StringComparer.Ordinal)
    {
        ["model.safetensors.index.json"] = SafetensorsSource.OpenIndex,
        ["model.safetensors"] = SafetensorsSource.OpenFile,
        ["pytorch_model.bin.index.json"] = Pickle.PickleTensorSource.OpenIndex,
        ["pytorch_model.bin"] = Pickle.PickleTensorSource.OpenFile,
    };

    /// <summary>The weights file of <paramref name="directory"/> that will be read.</summary>
    /// <exception cref="CheckpointFormatException">No weights file.</exception>
    public static string FindWeights(string directory)
    {
        foreach (string name in WeightFiles)
        {
            string path = Path.Combine(directory, name);
            if (File.Exists(path)) return path;
        }
        throw new CheckpointFormatException(directory, $"no weights found (looked for {string.Join(", ", WeightFiles)})");
    }

    /// <summary>Opens the weights of <paramref name="directory"/>.</summary>
    public static ITensorSource Open(string directory)
    {
        string path = FindWeights(directory);
        string name = Path.GetFileName(path);
        return Openers.TryGetValue(name, out var open)
            ? open(path)
            : throw new CheckpointFormatException(path, "this build cannot read this weights format");
    }
}
