using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using PeftSharp.IO;
using PeftSharp.Training;

namespace PeftSharp.Cli.Reports;

/// <summary>What a <c>peft train</c> run produced, for its report.</summary>
sealed record TrainingOutcome
{
    public required string Command { get; init; }
    public required string Model { get; init; }
    public required string Data { get; init; }
    public required string Task { get; init; }
    public required string Method { get; init; }
    public required string PeftType { get; init; }
    public required long TrainableParameters { get; init; }
    public required long ModelParameters { get; init; }
    public required TrainingResult Result { get; init; }
    public required double TrainSeconds { get; init; }
    public IReadOnlyDictionary<string, double>? Validation { get; init; }
    public IReadOnlyDictionary<string, double>? Test { get; init; }
    public string? PrimaryMetric { get; init; }
    public string? AdapterDirectory { get; init; }
    public long? AdapterBytes { get; init; }

    public double TrainablePercent => ModelParameters == 0 ? 0 : 100.0 * TrainableParameters / ModelParameters;
}

/// <summary>
/// The report files of a <c>peft train</c> run, beside its config.json, metrics.jsonl, checkpoints/ and adapter/:
/// results.json, summary.md, loss.png (training loss) and score_vs_trainable.png (the run's score against its share of
/// trainable parameters, the axes of <c>peft compare</c>'s plot).
/// </summary>
static class TrainingReport
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(string directory, TrainingOutcome outcome)
    {
        AtomicFile.WriteText(Path.Combine(directory, "results.json"), Json(outcome).ToJsonString(Indented));
        Plots.LossCurves(Path.Combine(directory, "loss.png"), $"{outcome.Data}: {outcome.Method} training loss", [(outcome.Method, outcome.Result.History)],
            window: Math.Max(1, outcome.Result.History.Count / 50));
        var scores = outcome.Test ?? outcome.Validation;
        if (outcome.PrimaryMetric is { } metric && scores is not null && scores.TryGetValue(metric, out double score))
            Plots.ScoreAgainstTrainable(Path.Combine(directory, "score_vs_trainable.png"),
                $"{outcome.Data}: {(outcome.Test is null ? "validation" : "test")} {ComparisonTable.Label(metric)}",
                $"{(outcome.Test is null ? "validation" : "test")} {ComparisonTable.Label(metric)}", [(outcome.Method, outcome.TrainablePercent, score)]);
        AtomicFile.WriteText(Path.Combine(directory, "summary.md"), Summary(outcome));
    }

    public static JsonObject Json(TrainingOutcome o) => new()
    {
        ["model"] = o.Model,
        ["data"] = o.Data,
        ["task"] = o.Task,
        ["method"] = o.Method,
        ["peft_type"] = o.PeftType,
        ["trainable_parameters"] = o.TrainableParameters,
        ["model_parameters"] = o.ModelParameters,
        ["trainable_percent"] = Math.Round(o.TrainablePercent, 6),
        ["steps"] = o.Result.Steps,
        ["total_steps"] = o.Result.TotalSteps,
        ["stop_reason"] = o.Result.StopReason.ToString(),
        ["final_train_loss"] = Finite(o.Result.FinalLoss),
        ["skipped_steps"] = o.Result.SkippedSteps,
        ["train_seconds"] = Math.Round(o.TrainSeconds, 2),
        ["validation"] = Metrics(o.Validation),
        ["test"] = Metrics(o.Test),
        ["adapter"] = o.AdapterDirectory,
        ["adapter_bytes"] = o.AdapterBytes,
    };

    static string Summary(TrainingOutcome o)
    {
        var text = new StringBuilder();
        text.AppendLine($"# peft train: {o.Method} on {o.Data}");
        text.AppendLine();
        text.AppendLine($"- command: `{o.Command}`");
        text.AppendLine($"- date: {DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC");
        text.AppendLine($"- model: `{o.Model}` ({o.Task}), {Numbers.Count(o.ModelParameters)} parameters");
        text.AppendLine($"- method: {o.Method} ({o.PeftType}), {Numbers.Count(o.TrainableParameters)} trainable parameters ({ComparisonTable.Percent(o.TrainablePercent)} of the model)");
        text.AppendLine($"- training: {o.Result.Steps} of {o.Result.TotalSteps} steps ({o.Result.StopReason}), {Numbers.Fixed(o.TrainSeconds, 1)} s, final training loss {Numbers.Fixed(o.Result.FinalLoss, 4)}");
        if (o.AdapterDirectory is not null) text.AppendLine($"- adapter: `{o.AdapterDirectory}` ({ComparisonTable.Bytes(o.AdapterBytes ?? 0)})");
        foreach (var (split, metrics) in new[] { ("validation", o.Validation), ("test", o.Test) })
            if (metrics is not null)
                text.AppendLine($"- {split}: {string.Join(", ", metrics.Select(m => $"{ComparisonTable.Label(m.Key)} {Numbers.Fixed(m.Value, 4)}"))}");
        text.AppendLine();
        text.AppendLine("![training loss](loss.png)");
        return text.ToString();
    }

    static JsonObject? Metrics(IReadOnlyDictionary<string, double>? metrics) => metrics is null ? null : ReportFormat.Metrics(metrics);

    static JsonNode? Finite(double value) => ReportFormat.Round(value, 6);
}
