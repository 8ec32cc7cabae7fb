using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using PeftSharp.Data;
using PeftSharp.Experiments;
using PeftSharp.IO;
using PeftSharp.Models;
using PeftSharp.Tuners.Common;

namespace PeftSharp.Cli.Training;

/// <summary>
/// Everything that defines a <c>peft train</c> run, written to its directory as config.json before training starts, so
/// that <c>peft train --resume DIR</c> rebuilds the identical run (and a reader sees exactly what ran).
/// </summary>
sealed record TrainRun(string Command, string Model, DataChoice Data, string? Method, PeftConfig Adapter, TrainingSettings Settings,
    IReadOnlyList<string>? Labels, int Threads)
{
    public const string FileName = "config.json";

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public void Write(string directory) => AtomicFile.WriteText(Path.Combine(directory, FileName), ToJson().ToJsonString(Indented));

    public JsonObject ToJson() => new()
    {
        ["command"] = Command,
        ["model"] = Model,
        ["data"] = Data.Data,
        ["validation"] = Data.Validation,
        ["test"] = Data.Test,
        ["task"] = Data.Task,
        ["columns"] = new JsonObject
        {
            ["text"] = Data.Columns.Text, ["text_pair"] = Data.Columns.TextPair, ["label"] = Data.Columns.Label,
            ["tokens"] = Data.Columns.Tokens, ["tags"] = Data.Columns.TokenLabels,
        },
        ["cache"] = Data.Cache,
        ["method"] = Method,
        ["labels"] = Labels is null ? null : new JsonArray(Labels.Select(l => (JsonNode?)l).ToArray()),
        ["adapter_config"] = Adapter.ToJson(),
        ["training"] = Settings.ToJson(),
        ["threads"] = Threads,
    };

    /// <summary>Reads the config.json of a run directory.</summary>
    /// <exception cref="ConfigException">Missing, malformed or incomplete.</exception>
    public static TrainRun Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new ConfigException(path, null, "not found: --resume takes the directory of an earlier 'peft train' run");
        var reader = ConfigReader.FromFile(path);
        var root = reader.Root;
        var columns = reader.ObjectOrNull("columns");
        var defaults = ColumnMapping.Default;
        var data = new DataChoice(reader.String("data"), reader.StringOrNull("validation"), reader.StringOrNull("test"), reader.StringOrNull("task"),
            new ColumnMapping
            {
                Text = columns?.StringOrNull("text") ?? defaults.Text,
                TextPair = columns?.StringOrNull("text_pair") ?? defaults.TextPair,
                Label = columns?.StringOrNull("label") ?? defaults.Label,
                Tokens = columns?.StringOrNull("tokens") ?? defaults.Tokens,
                TokenLabels = columns?.StringOrNull("tags") ?? defaults.TokenLabels,
            },
            reader.StringOrNull("cache"));
        var adapterJson = root["adapter_config"] as JsonObject ?? throw new ConfigException(path, "adapter_config", "missing");
        var adapterReader = new ConfigReader((JsonObject)adapterJson.DeepClone(), $"{path} (adapter_config)");
        var adapter = PeftMethods.For(adapterReader.String("peft_type"), path).ReadConfig(adapterReader);
        var settings = TrainingSettings.Read(root["training"] as JsonObject ?? throw new ConfigException(path, "training", "missing"), path);
        return new TrainRun(reader.String("command"), reader.String("model"), data, reader.StringOrNull("method"), adapter, settings,
            reader.StringListOrNull("labels"), reader.Int("threads", 0));
    }
}
