using System.Text.Json;
using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Tuners.Common;

namespace PeftSharp.Experiments;

/// <summary>
/// A <c>peft train --config</c> file: Hugging Face PEFT's adapter_config.json (its peft_type names the method, its other
/// fields are the method's options) with an optional "training" section of <see cref="TrainingSettings"/>. Either part
/// may be left out: a file with only "training" goes with <c>--method</c>.
/// </summary>
/// <param name="Adapter">The adapter config, or null when the file has no peft_type.</param>
/// <param name="Training">The training section (empty when absent).</param>
public sealed record TrainingConfigFile(PeftConfig? Adapter, TrainingSettings Training)
{
    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="ConfigException">Missing file, malformed JSON, unknown peft_type or training setting, a field of the wrong type.</exception>
    public static TrainingConfigFile Read(string path)
    {
        if (!File.Exists(path)) throw new ConfigException(path, null, "file not found");
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new ConfigException(path, null, "must hold a JSON object");
        }
        catch (JsonException e)
        {
            throw new ConfigException(path, null, $"malformed JSON: {e.Message}", e);
        }
        var training = new TrainingSettings();
        if (root["training"] is { } section)
        {
            training = section is JsonObject settings ? TrainingSettings.Read(settings, path)
                : throw new ConfigException(path, "training", "must be an object of training settings");
            root.Remove("training");
        }
        if (!root.ContainsKey("peft_type"))
        {
            var stray = root.Select(p => p.Key).FirstOrDefault();
            if (stray is not null) throw new ConfigException(path, stray, "adapter fields need a peft_type naming the method (LORA, IA3, ...)");
            return new TrainingConfigFile(null, training);
        }
        var reader = new ConfigReader(root, path);
        return new TrainingConfigFile(PeftMethods.For(reader.String("peft_type"), path).ReadConfig(reader), training);
    }
}
