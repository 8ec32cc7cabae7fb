using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using PeftSharp.IO;
using static TorchSharp.torch;

namespace PeftSharp.Training;

/// <summary>
/// A trainer checkpoint: a directory &lt;output&gt;/checkpoints/step-NNNNNNNN holding everything a resumed run needs to
/// continue bit for bit. It is written into a temporary sibling and renamed, so a directory with the final name is
/// always complete.
/// <code>
/// trainer_state.json       step, data position, best metric, early-stopping count, AdamW step per parameter
/// training_options.json    the TrainingOptions of the run
/// trainable.safetensors    trained parameters by model name, float32 (masters of bf16 parameters)
/// optimizer.safetensors    &lt;name&gt;.exp_avg and &lt;name&gt;.exp_avg_sq per trained parameter
/// rng_state.safetensors    torch_cpu_generator: libtorch's default CPU generator state (uint8)
/// best.safetensors         trained parameters at the best evaluation, when there was one
/// </code>
/// </summary>
public static class TrainingCheckpoint
{
    /// <summary>Step, data position, best metric and counters (JSON).</summary>
    public const string StateFile = "trainer_state.json";

    /// <summary>The run's <see cref="TrainingOptions"/> (JSON).</summary>
    public const string OptionsFile = "training_options.json";

    /// <summary>Trained parameters by model name, float32.</summary>
    public const string TrainableFile = "trainable.safetensors";

    /// <summary>AdamW's moments by parameter name.</summary>
    public const string OptimizerFile = "optimizer.safetensors";

    /// <summary>libtorch's default CPU generator state.</summary>
    public const string RandomStateFile = "rng_state.safetensors";

    /// <summary>Trained parameters at the best evaluation.</summary>
    public const string BestFile = "best.safetensors";
    const string CheckpointsFolder = "checkpoints";
    const string Prefix = "step-";
    const string GeneratorKey = "torch_cpu_generator";

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = true,
    };

    /// <summary>The folder holding the checkpoints of a run writing to <paramref name="outputDirectory"/>.</summary>
    public static string Folder(string outputDirectory) => Path.Combine(outputDirectory, CheckpointsFolder);

    /// <summary>The newest complete checkpoint under <paramref name="outputDirectory"/>, or null when there is none.</summary>
    public static string? Latest(string outputDirectory) => List(outputDirectory).Select(c => c.Path).LastOrDefault();

    /// <summary>The options a checkpoint was written with.</summary>
    /// <exception cref="CheckpointFormatException">The file is missing or malformed.</exception>
    public static TrainingOptions ReadOptions(string checkpointDirectory) =>
        ReadJson<TrainingOptions>(Path.Combine(checkpointDirectory, OptionsFile));

    /// <summary>Complete checkpoints by step, oldest first.</summary>
    internal static List<(long Step, string Path)> List(string outputDirectory)
    {
        string folder = Folder(outputDirectory);
        if (!Directory.Exists(folder)) return new();
        return Directory.GetDirectories(folder, Prefix + "*")
            .Select(path => (Ok: long.TryParse(Path.GetFileName(path)[Prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out long step), step, path))
            .Where(c => c.Ok && File.Exists(Path.Combine(c.path, StateFile)))
            .OrderBy(c => c.step).Select(c => (c.step, c.path)).ToList();
    }

    /// <summary>Everything a checkpoint holds, tensors outside any dispose scope (the caller disposes them).</summary>
    internal sealed record Contents(
        TrainerState State,
        TrainingOptions Options,
        Dictionary<string, Tensor> Trainable,
        Dictionary<string, Tensor> Optimizer,
        byte[] RandomState,
        Dictionary<string, Tensor>? Best) : IDisposable
    {
        public void Dispose()
        {
            foreach (var tensor in Trainable.Values.Concat(Optimizer.Values).Concat(Best?.Values ?? Enumerable.Empty<Tensor>())) tensor.Dispose();
        }
    }

    /// <summary>Writes a checkpoint for <see cref="TrainerState.Step"/> and deletes the oldest beyond <paramref name="keep"/> (0: keep all).</summary>
    internal static string Write(string outputDirectory, Contents contents, int keep)
    {
        string folder = Folder(outputDirectory);
        Directory.CreateDirectory(folder);
        string final = Path.Combine(folder, $"{Prefix}{contents.State.Step:D8}");
        string temporary = Path.Combine(folder, $".{Prefix}{contents.State.Step:D8}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temporary);
        try
        {
            AtomicFile.WriteText(Path.Combine(temporary, StateFile), JsonSerializer.Serialize(contents.State, Json));
            AtomicFile.WriteText(Path.Combine(temporary, OptionsFile), JsonSerializer.Serialize(contents.Options, Json));
            SafetensorsWriter.Save(Path.Combine(temporary, TrainableFile), contents.Trainable);
            SafetensorsWriter.Save(Path.Combine(temporary, OptimizerFile), contents.Optimizer);
            using (var generator = TorchSharp.torch.tensor(contents.RandomState, ScalarType.Byte))
                SafetensorsWriter.Save(Path.Combine(temporary, RandomStateFile), new[] { KeyValuePair.Create(GeneratorKey, generator) });
            if (contents.Best is { } best) SafetensorsWriter.Save(Path.Combine(temporary, BestFile), best);
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            Directory.Move(temporary, final);
        }
        catch
        {
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
            throw;
        }
        if (keep > 0)
            foreach (var (_, old) in List(outputDirectory).SkipLast(keep)) Directory.Delete(old, recursive: true);
        return final;
    }

    /// <summary>Reads a checkpoint directory.</summary>
    /// <exception cref="CheckpointFormatException">A file is missing or malformed.</exception>
    internal static Contents Read(string directory)
    {
        if (!Directory.Exists(directory)) throw new CheckpointFormatException(directory, "checkpoint directory does not exist");
        var state = ReadJson<TrainerState>(Path.Combine(directory, StateFile));
        if (state.Format != 1) throw new CheckpointFormatException(Path.Combine(directory, StateFile), $"unknown checkpoint format {state.Format} (this version reads 1)", "format");
        var options = ReadOptions(directory);
        var trainable = ReadTensors(Path.Combine(directory, TrainableFile));
        var optimizer = ReadTensors(Path.Combine(directory, OptimizerFile));
        string rngPath = Path.Combine(directory, RandomStateFile);
        var rng = ReadTensors(rngPath);
        if (!rng.TryGetValue(GeneratorKey, out var generator) || generator.dtype != ScalarType.Byte)
            throw new CheckpointFormatException(rngPath, "expected a uint8 tensor", GeneratorKey);
        byte[] randomState = generator.data<byte>().ToArray();
        foreach (var tensor in rng.Values) tensor.Dispose();
        string bestPath = Path.Combine(directory, BestFile);
        var best = File.Exists(bestPath) ? ReadTensors(bestPath) : null;
        return new Contents(state, options, trainable, optimizer, randomState, best);
    }

    static Dictionary<string, Tensor> ReadTensors(string path)
    {
        if (!File.Exists(path)) throw new CheckpointFormatException(path, "checkpoint file is missing");
        using var file = SafetensorsFile.Open(path);
        return file.ReadAll();
    }

    static T ReadJson<T>(string path)
    {
        if (!File.Exists(path)) throw new CheckpointFormatException(path, "checkpoint file is missing");
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json) ?? throw new CheckpointFormatException(path, "file holds null");
        }
        catch (JsonException error)
        {
            throw new CheckpointFormatException(path, $"malformed JSON: {error.Message}", inner: error);
        }
    }

    /// <summary>
    /// Differences between the options of a checkpoint and those of the run resuming it, in the options that decide the
    /// trajectory (see <see cref="TrainingOptions.FreeOnResume"/> for those that may change).
    /// </summary>
    internal static List<string> Differences(TrainingOptions saved, TrainingOptions current)
    {
        var a = JsonSerializer.SerializeToNode(saved, Json)!.AsObject();
        var b = JsonSerializer.SerializeToNode(current, Json)!.AsObject();
        var free = TrainingOptions.FreeOnResume.Select(JsonNamingPolicy.SnakeCaseLower.ConvertName).ToHashSet(StringComparer.Ordinal);
        var differences = new List<string>();
        foreach (var (name, value) in b)
        {
            if (free.Contains(name)) continue;
            var old = a[name];
            if (!JsonNode.DeepEquals(old, value)) differences.Add($"{name} was {old?.ToJsonString() ?? "null"} in the checkpoint, now {value?.ToJsonString() ?? "null"}");
        }
        return differences;
    }
}
