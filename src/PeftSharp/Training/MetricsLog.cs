using System.Text;
using System.Text.Json;
using PeftSharp.IO;

namespace PeftSharp.Training;

/// <summary>
/// metrics.jsonl: one JSON object a line, {"step", "epoch", "loss", "lr", "grad_norm", "tokens_per_s", "skipped_steps",
/// "eval_&lt;metric&gt;"...}; non-finite numbers are written as null. Each line is flushed as it is written.
/// </summary>
internal sealed class MetricsLog : IDisposable
{
    public const string FileName = "metrics.jsonl";
    readonly StreamWriter _writer;

    MetricsLog(StreamWriter writer) => _writer = writer;

    /// <summary>
    /// Opens the log of <paramref name="outputDirectory"/> for appending. A resumed run first drops the lines after its
    /// checkpoint's step (written by the interrupted run after that checkpoint), so the file reads as one run.
    /// </summary>
    public static MetricsLog Open(string outputDirectory, long? resumedAtStep)
    {
        Directory.CreateDirectory(outputDirectory);
        string path = Path.Combine(outputDirectory, FileName);
        if (resumedAtStep is long step && File.Exists(path))
        {
            var kept = File.ReadLines(path).Where(line => StepOf(line) is long s && s <= step);
            AtomicFile.WriteText(path, string.Concat(kept.Select(line => line + "\n")));
        }
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        return new MetricsLog(new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n" });
    }

    static long? StepOf(string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            return document.RootElement.TryGetProperty("step", out var step) && step.TryGetInt64(out long value) ? value : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Write(TrainingProgress progress)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("step", progress.Step);
            Number(json, "epoch", progress.Epoch);
            Number(json, "loss", progress.Loss);
            Number(json, "lr", progress.LearningRate);
            Number(json, "grad_norm", progress.GradNorm);
            Number(json, "tokens_per_s", progress.TokensPerSecond);
            json.WriteNumber("skipped_steps", progress.SkippedSteps);
            foreach (var (name, value) in progress.Evaluation ?? new Dictionary<string, double>()) Number(json, "eval_" + name, value);
            json.WriteEndObject();
        }
        _writer.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        _writer.Flush();
    }

    static void Number(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value)) json.WriteNumber(name, value);
        else json.WriteNull(name);
    }

    public void Dispose() => _writer.Dispose();
}
