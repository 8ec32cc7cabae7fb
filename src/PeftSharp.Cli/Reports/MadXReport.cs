using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using PeftSharp.Experiments;
using PeftSharp.IO;
using PeftSharp.Training;

namespace PeftSharp.Cli.Reports;

/// <summary>
/// The report directory of <c>peft madx</c>, beside the adapters/ and training/ folders the run wrote: results.json
/// (every figure; what --json prints), summary.md (both tables with the command and date) and loss_curves.png. The
/// tables themselves are built here for the terminal and the summary alike.
/// </summary>
static class MadXReport
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Training steps averaged for the start and end losses of a run (single steps are noisy).</summary>
    const int LossWindow = 10;

    public static void Write(string directory, MadXResult result, string commandLine, DateTime finished)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteText(Path.Combine(directory, "results.json"), Json(result, directory, commandLine, finished).ToJsonString(Indented));
        var runs = result.Languages.Select(l => ($"language adapter {l.Adapter}", l.History)).ToList();
        if (result.TaskHistory.Count > 0) runs.Add(($"task adapter {result.TaskAdapter}", result.TaskHistory));
        Plots.LossCurves(Path.Combine(directory, "loss_curves.png"), "MAD-X: training loss (language adapters: LM loss; task adapter: classification loss)", runs);
        AtomicFile.WriteText(Path.Combine(directory, "summary.md"), Summary(result, commandLine, finished));
    }

    public static JsonObject Json(MadXResult result, string? reportDirectory, string? commandLine = null, DateTime? finished = null)
    {
        var options = result.Options;
        return new JsonObject
        {
            ["command"] = commandLine,
            ["date_utc"] = finished?.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["model"] = options.Model,
            ["model_parameters"] = result.ModelParameters,
            ["objective"] = result.Objective,
            ["input_length"] = result.InputLength,
            ["budget"] = new JsonObject
            {
                ["language_steps"] = options.LanguageSteps,
                ["task_steps"] = options.TaskSteps,
                ["language_learning_rate"] = options.LanguageLearningRate,
                ["task_learning_rate"] = options.TaskLearningRate,
                ["batch_size"] = options.BatchSize,
                ["max_length"] = options.MaxLength,
                ["warmup_ratio"] = options.WarmupRatio,
                ["schedule"] = "linear",
                ["seed"] = options.Seed,
                ["threads"] = result.Threads,
                ["max_test_examples"] = options.MaxTestExamples,
            },
            ["languages"] = new JsonArray(result.Languages.Select(l => (JsonNode?)new JsonObject
            {
                ["data"] = l.Data,
                ["adapter"] = l.Adapter,
                ["train_examples"] = l.TrainExamples,
                ["held_out_split"] = l.HeldOutSplit,
                ["held_out_examples"] = l.HeldOutExamples,
                ["adapter_parameters"] = l.AdapterParameters,
                ["train_seconds"] = Round(l.TrainSeconds, 2),
                ["train_loss"] = LossSpan(l.History),
            }).ToArray()),
            ["language_modeling"] = new JsonArray(result.LanguageModeling.Select(r => (JsonNode?)new JsonObject
            {
                ["adapter"] = r.Adapter,
                ["held_out"] = new JsonObject(r.HeldOut.Select(h => KeyValuePair.Create(h.Key, (JsonNode?)Metrics(h.Value)))),
            }).ToArray()),
            ["task"] = new JsonObject
            {
                ["data"] = result.TaskData,
                ["adapter"] = result.TaskAdapter,
                ["trained_over"] = result.Languages.Count > 0 ? result.Languages[0].Adapter : null,
                ["labels"] = new JsonArray(result.Labels.Select(l => (JsonNode?)l).ToArray()),
                ["train_examples"] = result.TaskTrainExamples,
                ["scored_split"] = result.ScoredSplit,
                ["scored_examples"] = result.ScoredExamples,
                ["primary_metric"] = result.PrimaryMetric,
                ["trainable_parameters"] = result.TaskTrainableParameters,
                ["train_seconds"] = Round(result.TaskTrainSeconds, 2),
                ["train_loss"] = LossSpan(result.TaskHistory),
                ["frozen_tensors_checked"] = result.FrozenTensorsChecked,
                ["frozen_tensors_changed"] = new JsonArray(result.FrozenTensorsChanged.Select(n => (JsonNode?)n).ToArray()),
            },
            ["task_scores"] = new JsonArray(result.TaskScores.Select(s => (JsonNode?)new JsonObject
            {
                ["language_adapter"] = s.LanguageAdapter,
                ["metrics"] = Metrics(s.Metrics),
            }).ToArray()),
            ["duration_seconds"] = Math.Round(result.Duration.TotalSeconds, 1),
            ["interrupted"] = result.Interrupted,
            ["report"] = reportDirectory,
        };
    }

    /// <summary>Header of the language-modelling table: the model, then one column per language's held-out text.</summary>
    public static IReadOnlyList<string> LanguageModelingHeader(MadXResult result) =>
        ["language adapter", .. result.Languages.Select(l => $"{l.Data} {l.HeldOutSplit} ({Numbers.Count(l.HeldOutExamples)} texts)")];

    /// <summary>"loss (perplexity)" of the bare model and of each language adapter on each language's held-out text.</summary>
    public static IEnumerable<IReadOnlyList<string>> LanguageModelingRows(MadXResult result) =>
        result.LanguageModeling.Select(row => (IReadOnlyList<string>)
        [
            row.Adapter ?? "none (base model)",
            .. result.Languages.Select(l => row.HeldOut.TryGetValue(l.Data, out var m)
                ? $"{Numbers.Fixed(m["loss"], 4)} ({Numbers.Fixed(m["perplexity"], 1)})"
                : "-"),
        ]);

    /// <summary>Header of the task table: the language adapter under the task adapter, then the task's metrics.</summary>
    public static IReadOnlyList<string> TaskHeader(MadXResult result) =>
        ["under the task adapter", .. MetricNames(result).Select(ComparisonTable.Label)];

    /// <summary>The task adapter's metrics over each language adapter (the one it trained over marked), then alone.</summary>
    public static IEnumerable<IReadOnlyList<string>> TaskRows(MadXResult result)
    {
        var metrics = MetricNames(result);
        string? own = result.Languages.Count > 0 ? result.Languages[0].Adapter : null;
        return result.TaskScores.Select(s => (IReadOnlyList<string>)
        [
            s.LanguageAdapter is null ? "none" : s.LanguageAdapter == own ? $"{s.LanguageAdapter} (trained over)" : $"{s.LanguageAdapter} (swapped in)",
            .. metrics.Select(m => s.Metrics.TryGetValue(m, out double v) ? Numbers.Fixed(v, 4) : "-"),
        ]);
    }

    /// <summary>One line on the frozen check: every tensor outside the task adapter unchanged, or which changed.</summary>
    public static string FrozenLine(MadXResult result) => result.FrozenTensorsChanged.Count == 0
        ? $"while the task adapter trained, {Numbers.Count(result.FrozenTensorsChecked)} tensors of the base model and the language adapters stayed bit-identical"
        : $"while the task adapter trained, {result.FrozenTensorsChanged.Count} of {Numbers.Count(result.FrozenTensorsChecked)} frozen tensors CHANGED: {string.Join(", ", result.FrozenTensorsChanged.Take(5))}";

    static IReadOnlyList<string> MetricNames(MadXResult result)
    {
        // The task's own metrics first, the loss last: accuracy, macro_f1, mcc, loss.
        var names = result.TaskScores.SelectMany(s => s.Metrics.Keys).Distinct().ToList();
        return [.. names.Where(n => n != "loss"), .. names.Where(n => n == "loss")];
    }

    static string Summary(MadXResult result, string commandLine, DateTime finished)
    {
        var options = result.Options;
        var text = new StringBuilder();
        string own = result.Languages.Count > 0 ? result.Languages[0].Adapter : "-";
        text.AppendLine($"# peft madx: {result.TaskData} over language adapters {string.Join(", ", result.Languages.Select(l => l.Adapter))} on {options.Model}");
        text.AppendLine();
        text.AppendLine($"- command: `{commandLine}`");
        text.AppendLine($"- date: {finished.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC; duration {Numbers.Fixed(result.Duration.TotalMinutes, 1)} min{(result.Interrupted ? " (interrupted: tables incomplete)" : "")}");
        text.AppendLine($"- machine: {ComparisonReport.CpuModel()}, {Environment.ProcessorCount} logical processors, libtorch threads {result.Threads}");
        text.AppendLine($"- model: `{options.Model}`, {Numbers.Count(result.ModelParameters)} parameters with its {result.Objective} head; inputs of at most {result.InputLength} tokens");
        foreach (var l in result.Languages)
            text.AppendLine($"- language adapter `{l.Adapter}`: {Numbers.Count(l.AdapterParameters)} parameters (Pfeiffer bottlenecks, reduction 2, and a NICE invertible adapter), " +
                $"{options.LanguageSteps} {result.Objective} steps × {options.BatchSize} on {l.Data} ({Numbers.Count(l.TrainExamples)} training texts), learning rate {Rate(options.LanguageLearningRate)}, {Numbers.Fixed(l.TrainSeconds, 0)} s");
        text.AppendLine($"- task adapter `{result.TaskAdapter}`: {Numbers.Count(result.TaskTrainableParameters)} trainable parameters (Pfeiffer bottlenecks, reduction 16, and its copy of the classification head), " +
            $"stacked on `{own}`; {options.TaskSteps} steps × {options.BatchSize} on {result.TaskData} ({Numbers.Count(result.TaskTrainExamples)} training examples, {result.Labels.Count} classes), learning rate {Rate(options.TaskLearningRate)}, {Numbers.Fixed(result.TaskTrainSeconds, 0)} s");
        text.AppendLine($"- every run: AdamW, linear schedule with {Numbers.Fixed(options.WarmupRatio * 100, 0)}% warm-up, seed {options.Seed}, float32");
        if (result.FrozenTensorsChecked > 0) text.AppendLine($"- {FrozenLine(result)}");
        text.AppendLine();
        text.AppendLine($"## {result.Objective} loss (perplexity) on held-out text");
        text.AppendLine();
        AppendTable(text, LanguageModelingHeader(result), LanguageModelingRows(result));
        text.AppendLine();
        if (result.TaskScores.Count > 0)
        {
            text.AppendLine($"## {result.TaskData}: {result.ScoredSplit} set of {Numbers.Count(result.ScoredExamples)}, task adapter trained over `{own}`");
            text.AppendLine();
            AppendTable(text, TaskHeader(result), TaskRows(result));
            text.AppendLine();
        }
        text.AppendLine("Adapters (PEFT layout): " + string.Join(", ", result.Languages.Select(l => $"`adapters/{l.Adapter}/`")
            .Append(result.TaskScores.Count > 0 ? $"`adapters/{result.TaskAdapter}/`" : null).OfType<string>()) + ".");
        text.AppendLine();
        text.AppendLine("![training loss](loss_curves.png)");
        return text.ToString();
    }

    static string Rate(double rate) => rate.ToString("0.##e-0", CultureInfo.InvariantCulture);

    /// <summary>Mean loss of the first and of the last <see cref="LossWindow"/> steps, or null before any step.</summary>
    static JsonObject? LossSpan(IReadOnlyList<TrainingProgress> history)
    {
        if (history.Count == 0) return null;
        int window = Math.Min(LossWindow, history.Count);
        return new JsonObject
        {
            ["first_steps_mean"] = Round(history.Take(window).Average(p => p.Loss), 6),
            ["last_steps_mean"] = Round(history.TakeLast(window).Average(p => p.Loss), 6),
            ["window"] = window,
        };
    }

    static void AppendTable(StringBuilder text, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        text.AppendLine("| " + string.Join(" | ", header) + " |");
        text.AppendLine("|" + string.Concat(header.Select((_, i) => i == 0 ? "---|" : "---:|")));
        foreach (var row in rows) text.AppendLine("| " + string.Join(" | ", row) + " |");
    }

    static JsonObject Metrics(IReadOnlyDictionary<string, double> metrics) => ReportFormat.Metrics(metrics);

    static JsonNode? Round(double value, int digits) => ReportFormat.Round(value, digits);
}
