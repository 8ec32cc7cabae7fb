using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using PeftSharp.Cli.Training;
using PeftSharp.Experiments;
using PeftSharp.IO;

namespace PeftSharp.Cli.Reports;

/// <summary>
/// The report directory of <c>peft compare</c>: config.json (options, command, date, machine), results.json (every
/// figure), summary.md (the table and how each column was measured), loss_curves.png, score_vs_trainable.png,
/// low_data.png (with --low-data), and methods/&lt;name&gt;/ with each method's metrics.jsonl and adapter.
/// </summary>
static class ComparisonReport
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Files written besides the method folders.</summary>
    public static readonly IReadOnlyList<string> Files = ["config.json", "results.json", "summary.md", "loss_curves.png", "score_vs_trainable.png"];

    public static void Write(string directory, ComparisonResult result, string commandLine, DateTime finished)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteText(Path.Combine(directory, "config.json"), Config(result, commandLine, finished).ToJsonString(Indented));
        AtomicFile.WriteText(Path.Combine(directory, "results.json"), ComparisonJson.From(result, directory).ToJsonString(Indented));
        string metric = ComparisonTable.Label(result.PrimaryMetric);
        Plots.LossCurves(Path.Combine(directory, "loss_curves.png"), $"{result.DataName}: training loss, {result.Options.Steps} steps per method",
            result.Methods.Select(m => (m.Method, m.History)));
        Plots.ScoreAgainstTrainable(Path.Combine(directory, "score_vs_trainable.png"), $"{result.DataName}: {result.ScoredSplit} {metric} against trainable parameters",
            $"{result.ScoredSplit} {metric}",
            result.Methods.Where(m => m.Error is null && m.Metrics.ContainsKey(result.PrimaryMetric)).Select(m => (m.Method, m.TrainablePercent, m.Metrics[result.PrimaryMetric])));
        if (result.LowData.Count > 0)
            Plots.ScoreAgainstDataSize(Path.Combine(directory, "low_data.png"), $"{result.DataName}: {result.ScoredSplit} {metric} by training-set size",
                $"{result.ScoredSplit} {metric}",
                result.LowData.GroupBy(l => l.Method).Select(g => (g.Key,
                    (IReadOnlyList<(int, double)>)g.Select(l => (l.TrainExamples, l.Metrics.GetValueOrDefault(result.PrimaryMetric, double.NaN))).ToList())));
        AtomicFile.WriteText(Path.Combine(directory, "summary.md"), Summary(result, commandLine, finished));
    }

    static JsonObject Config(ComparisonResult result, string commandLine, DateTime finished)
    {
        var options = result.Options;
        return new JsonObject
        {
            ["command"] = commandLine,
            ["date_utc"] = finished.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["machine"] = Machine(result),
            ["model"] = options.Model,
            ["data"] = options.Data,
            ["methods"] = new JsonArray(options.Recipes.Select(r => (JsonNode?)new JsonObject
            {
                ["name"] = r.Name,
                ["summary"] = r.Summary,
                ["learning_rate"] = options.LearningRates.GetValueOrDefault(r.Name, r.LearningRate),
            }).ToArray()),
            ["steps"] = options.Steps,
            ["batch_size"] = options.BatchSize,
            ["max_length"] = options.MaxLength,
            ["warmup_ratio"] = options.WarmupRatio,
            ["schedule"] = "linear",
            ["seed"] = options.Seed,
            ["precision"] = TrainingFlags.Name(options.Precision),
            ["threads"] = result.Threads,
            ["max_test_examples"] = options.MaxTestExamples,
            ["forgetting"] = options.Forgetting,
            ["forgetting_sequences"] = options.Forgetting ? options.ForgettingSequences : null,
            ["low_data"] = new JsonArray(options.LowData.Select(n => (JsonNode?)(n == int.MaxValue ? "all" : n.ToString(CultureInfo.InvariantCulture))).ToArray()),
            ["latency"] = options.Latency ? new JsonObject { ["batch"] = options.LatencyBatch, ["rounds"] = options.LatencyRounds, ["length"] = result.InputLength } : null,
        };
    }

    static string Machine(ComparisonResult result) =>
        $"{CpuModel()}, {Environment.ProcessorCount} logical processors, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, libtorch threads {result.Threads}";

    /// <summary>The processor's name from /proc/cpuinfo (Linux), else "CPU".</summary>
    public static string CpuModel()
    {
        const string cpuInfo = "/proc/cpuinfo";
        if (!File.Exists(cpuInfo)) return "CPU";
        string? line = File.ReadLines(cpuInfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line is null ? "CPU" : line[(line.IndexOf(':') + 1)..].Trim();
    }

    static string Summary(ComparisonResult result, string commandLine, DateTime finished)
    {
        var options = result.Options;
        var text = new StringBuilder();
        text.AppendLine($"# peft compare: {result.DataName} on {options.Model}");
        text.AppendLine();
        text.AppendLine($"- command: `{commandLine}`");
        text.AppendLine($"- date: {finished.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC; duration {Numbers.Fixed(result.Duration.TotalMinutes, 1)} min{(result.Interrupted ? " (interrupted: rows missing)" : "")}");
        text.AppendLine($"- machine: {Machine(result)}");
        text.AppendLine($"- model: `{options.Model}`, {Numbers.Count(result.ModelParameters)} parameters with the task head; weight file {ComparisonTable.Bytes(result.ModelFileBytes)} ({result.ModelFileDType ?? "float32"})");
        text.AppendLine($"- task: {result.DataName} ({result.Task}{(result.Labels is int l ? $", {l} labels" : "")}), {Numbers.Count(result.TrainExamples)} training examples, scored on {Numbers.Count(result.ScoredExamples)} {result.ScoredSplit} examples");
        text.AppendLine($"- budget per method: {options.Steps} steps × {options.BatchSize} examples of ≤ {result.InputLength} tokens{(result.InputLength < options.MaxLength ? $" (--max-length {options.MaxLength}, cut to what the longest prompt leaves)" : "")}, AdamW, linear schedule with {Numbers.Fixed(options.WarmupRatio * 100, 0)}% warm-up, seed {options.Seed}, {TrainingFlags.Name(options.Precision)}");
        text.AppendLine();
        AppendTable(text, ComparisonTable.Header(result), ComparisonTable.Rows(result));
        text.AppendLine();
        var baseLatency = result.Methods.SelectMany(m => m.Unmerged).GroupBy(l => l.Batch)
            .Select(g => $"batch {g.Key}: {Numbers.Fixed(g.Select(l => l.BaseMilliseconds).Order().ElementAt(g.Count() / 2), 1)} ms").ToList();
        text.AppendLine("How each column was measured:");
        text.AppendLine("- **trainable params**: parameters that trained, counted as PEFT's `print_trainable_parameters` does (the adapter plus the task head, which every method trains as `modules_to_save`); **% of model**: of the base model's parameters with the head.");
        text.AppendLine($"- **adapter file**: `adapter_model.safetensors` as saved (float32 tensors), against the model's weight file ({result.ModelFileDType ?? "float32"}).");
        text.AppendLine("- **train time**: wall time of the training steps alone (no evaluation), on the threads above.");
        text.AppendLine("- **peak memory**: rise of the process's peak resident set (VmHWM) during training above the resident set just before it, measured in this process after handing freed heap back to the system (malloc_trim) and resetting the peak (`/proc/self/clear_refs`); it holds gradients, optimizer state and activations.");
        if (options.Latency)
            text.AppendLine($"- **latency**: median forward pass (eval mode, no gradients) of the adapted model over the median of the base model, the two run in alternation on the same random ids, batch 1 and {options.LatencyBatch} × {result.InputLength} tokens{(baseLatency.Count > 0 ? $" (base model: {string.Join(", ", baseLatency)})" : "")}. **Merged**: after `MergeAndUnload`, a plain model again; n/a: the method cannot merge.");
        text.AppendLine("- learning rates: " + string.Join(", ", result.Methods.Select(m => $"{m.Method} {m.LearningRate.ToString("0.##e-0", CultureInfo.InvariantCulture)}")) + ".");
        foreach (var failed in result.Methods.Where(m => m.Error is not null)) text.AppendLine($"- {failed.Method} failed: {failed.Error}");

        if (result.ForgettingBaseLoss is double before)
        {
            text.AppendLine();
            text.AppendLine("## Forgetting");
            text.AppendLine();
            text.AppendLine($"{result.ForgettingObjective} loss on {result.ForgettingSequences} held-out texts of the pretraining corpora: pretrained model {Numbers.Fixed(before, 4)}; after task training (the trained adapter carried to the model's language-model head):");
            text.AppendLine();
            AppendTable(text, ["method", "loss after", "increase"], result.Methods.Where(m => m.ForgettingLoss is not null)
                .Select(m => (IReadOnlyList<string>)[m.Method, Numbers.Fixed(m.ForgettingLoss!.Value, 4), Numbers.Fixed(m.ForgettingLoss.Value - before, 4)]));
        }

        if (result.LowData.Count > 0)
        {
            text.AppendLine();
            text.AppendLine($"## Low data: {ComparisonTable.Label(result.PrimaryMetric)} by training-set size");
            text.AppendLine();
            AppendTable(text, ComparisonTable.LowDataHeader(result), ComparisonTable.LowDataRows(result));
            text.AppendLine();
            text.AppendLine($"Each subset is a seeded sample of the training set; every run takes the same {options.Steps} steps (smaller sets are repeated).");
            text.AppendLine();
            text.AppendLine("![score by training-set size](low_data.png)");
        }
        text.AppendLine();
        text.AppendLine("![training loss](loss_curves.png)");
        text.AppendLine();
        text.AppendLine("![score against trainable parameters](score_vs_trainable.png)");
        return text.ToString();
    }

    /// <summary>A Markdown table: the first column left-aligned, the figures right-aligned.</summary>
    public static void AppendTable(StringBuilder text, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        text.AppendLine("| " + string.Join(" | ", header) + " |");
        text.AppendLine("|" + string.Concat(header.Select((_, i) => i == 0 ? "---|" : "---:|")));
        foreach (var row in rows) text.AppendLine("| " + string.Join(" | ", row) + " |");
    }
}
