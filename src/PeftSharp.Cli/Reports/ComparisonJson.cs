using System.Text.Json.Nodes;
using PeftSharp.Cli.Training;
using PeftSharp.Experiments;

namespace PeftSharp.Cli.Reports;

/// <summary>A comparison as one JSON document: <c>peft compare --json</c> prints it, the report keeps it as results.json.</summary>
static class ComparisonJson
{
    public static JsonObject From(ComparisonResult result, string? reportDirectory) => new()
    {
        ["model"] = result.Options.Model,
        ["data"] = result.DataName,
        ["task"] = result.Task,
        ["labels"] = result.Labels,
        ["train_examples"] = result.TrainExamples,
        ["scored_split"] = result.ScoredSplit,
        ["scored_examples"] = result.ScoredExamples,
        ["primary_metric"] = result.PrimaryMetric,
        ["model_parameters"] = result.ModelParameters,
        ["model_file_bytes"] = result.ModelFileBytes,
        ["model_file_dtype"] = result.ModelFileDType,
        ["budget"] = new JsonObject
        {
            ["steps"] = result.Options.Steps,
            ["batch_size"] = result.Options.BatchSize,
            ["max_length"] = result.Options.MaxLength,
            ["input_length"] = result.InputLength,
            ["warmup_ratio"] = result.Options.WarmupRatio,
            ["seed"] = result.Options.Seed,
            ["precision"] = TrainingFlags.Name(result.Options.Precision),
            ["threads"] = result.Threads,
        },
        ["forgetting"] = result.ForgettingBaseLoss is double baseLoss
            ? new JsonObject { ["objective"] = result.ForgettingObjective, ["held_out_texts"] = result.ForgettingSequences, ["base_loss"] = baseLoss }
            : null,
        ["methods"] = new JsonArray(result.Methods.Select(m => (JsonNode?)Method(m, result.ForgettingBaseLoss)).ToArray()),
        ["low_data"] = new JsonArray(result.LowData.Select(l => (JsonNode?)new JsonObject
        {
            ["method"] = l.Method,
            ["train_examples"] = l.TrainExamples,
            ["metrics"] = Metrics(l.Metrics),
            ["error"] = l.Error,
        }).ToArray()),
        ["duration_seconds"] = Math.Round(result.Duration.TotalSeconds, 1),
        ["interrupted"] = result.Interrupted,
        ["report"] = reportDirectory,
    };

    static JsonObject Method(MethodOutcome m, double? forgettingBase) => new()
    {
        ["method"] = m.Method,
        ["peft_type"] = m.PeftType,
        ["summary"] = m.Summary,
        ["learning_rate"] = m.LearningRate,
        ["trainable_parameters"] = m.TrainableParameters,
        ["trainable_percent"] = Round(m.TrainablePercent, 6),
        ["context_left"] = m.ContextLeft,
        ["adapter_bytes"] = m.AdapterBytes,
        ["adapter_ratio"] = m.AdapterRatio is double r ? Round(r, 6) : null,
        ["metrics"] = Metrics(m.Metrics),
        ["train_seconds"] = Round(m.TrainSeconds, 2),
        ["peak_memory_bytes"] = m.PeakMemoryBytes,
        ["latency_unmerged"] = Latencies(m.Unmerged),
        ["latency_merged"] = m.Merged.Count > 0 ? Latencies(m.Merged) : null,
        ["forgetting_loss"] = m.ForgettingLoss is double f ? Round(f, 6) : null,
        ["forgetting_increase"] = m.ForgettingLoss is double after && forgettingBase is double before ? Round(after - before, 6) : null,
        ["error"] = m.Error,
        ["interrupted"] = m.Interrupted,
    };

    static JsonArray Latencies(IReadOnlyList<LatencyMeasurement> list) => new(list.Select(l => (JsonNode?)new JsonObject
    {
        ["batch"] = l.Batch,
        ["length"] = l.Length,
        ["base_ms"] = Round(l.BaseMilliseconds, 3),
        ["ms"] = Round(l.Milliseconds, 3),
        ["ratio"] = Round(l.Ratio, 4),
    }).ToArray());

    static JsonObject Metrics(IReadOnlyDictionary<string, double> metrics) => ReportFormat.Metrics(metrics);

    static JsonNode? Round(double value, int digits) => ReportFormat.Round(value, digits);
}
