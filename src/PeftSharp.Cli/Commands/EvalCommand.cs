using System.CommandLine;
using System.Text.Json.Nodes;
using PeftSharp.Cli.Reports;
using PeftSharp.Cli.Training;
using PeftSharp.Experiments;
using PeftSharp.Models;
using PeftSharp.Tokenization;
using PeftSharp.Training;
using PeftSharp.Tuners;
using Spectre.Console;
using static TorchSharp.torch;

namespace PeftSharp.Cli.Commands;

/// <summary>
/// <c>peft eval --run DIR</c> or <c>peft eval --model DIR [--adapter DIR] --data NAME|FILE</c>: scores a trained adapter
/// (or the bare model) on a dataset's validation and/or test split and prints the task's metrics.
/// A <c>peft train</c> run directory supplies the model, the adapter, the data and the class labels in the order the
/// head was trained with; flags replace them.
/// </summary>
static class EvalCommand
{
    public static Command Create(CliConsole console)
    {
        var run = new Option<string?>("--run") { Description = "A 'peft train' run directory: its model, adapter, data and labels (flags override them)", HelpName = "DIR" };
        var model = new Option<string?>("--model", "-m") { Description = "Base model directory (required unless --run)", HelpName = "DIR" };
        var adapter = new Option<string?>("--adapter", "-a") { Description = "Adapter directory (adapter_config.json + adapter_model.safetensors); none scores the bare model", HelpName = "DIR" };
        var data = new DataFlags();
        data.Data.Required = false;
        var split = new Option<string>("--split") { Description = "validation, test, or both (default: test where the data have one)", HelpName = "NAME", DefaultValueFactory = _ => "default" };
        var batch = new Option<int?>("--batch-size") { Description = $"Examples per forward pass (default {TrainingSettings.DefaultBatchSize})", HelpName = "N" };
        var maxLength = new Option<int?>("--max-length") { Description = $"Longest input in tokens (default: the run's, else {TrainingSettings.DefaultMaxLength})", HelpName = "N" };
        var maxExamples = new Option<int?>("--max-examples") { Description = "Score at most N examples per split (a fixed sample)", HelpName = "N" };
        var precision = TrainingFlags.Precision("fp32 (default) or bf16");
        var threads = TrainingFlags.Threads();
        var json = CommonOptions.Json();
        var command = new Command("eval", "Score a trained adapter (or the bare model) on a dataset")
        {
            run, model, adapter, split, batch, maxLength, maxExamples, precision, threads, json,
        };
        foreach (var option in data.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            TrainRun? trained = parse.GetValue(run) is { } runDirectory ? TrainRun.Read(runDirectory) : null;
            string modelPath = parse.GetValue(model) ?? trained?.Model
                ?? throw new CliUsageException("--model is required unless --run names a 'peft train' run (see 'peft eval --help')");
            if (!Directory.Exists(modelPath)) throw new CliUsageException($"{modelPath}: no such model directory");
            string? adapterPath = parse.GetValue(adapter) ?? (parse.GetValue(run) is { } r ? Path.Combine(r, "adapter") : null);
            if (adapterPath is not null && !Directory.Exists(adapterPath)) throw new CliUsageException($"{adapterPath}: no such adapter directory");
            DataChoice choice = parse.GetValue(data.Data) is not null ? data.Read(parse)
                : trained?.Data ?? throw new CliUsageException("--data is required unless --run names a 'peft train' run (see 'peft eval --help')");
            var request = new EvalRequest(modelPath, adapterPath, choice,
                ParseSplit(parse.GetValue(split)!),
                parse.GetValue(batch) ?? TrainingSettings.DefaultBatchSize,
                parse.GetValue(maxLength) ?? trained?.Settings.MaxLength ?? TrainingSettings.DefaultMaxLength,
                parse.GetValue(maxExamples),
                parse.GetValue(precision) is { } p ? TrainingFlags.ParsePrecision(p) : trained?.Settings.Precision ?? TrainingPrecision.Float32,
                // The class order the head was trained with; gathering it again from other data could permute it.
                parse.GetValue(data.Data) is null || parse.GetValue(data.Data) == trained?.Data.Data ? trained?.Labels : null);
            if (request.BatchSize < 1) throw new CliUsageException("--batch-size must be positive");
            if (request.MaxLength < 8) throw new CliUsageException("--max-length must be at least 8");
            if (request.MaxExamples is < 1) throw new CliUsageException("--max-examples must be positive");
            return Run(console, request, parse.GetValue(threads) ?? CompareCommand.DefaultThreads(), parse.GetValue(json));
        });
        return command;
    }

    enum Splits { Default, Validation, Test, Both }

    sealed record EvalRequest(string Model, string? Adapter, DataChoice Data, Splits Splits, int BatchSize, int MaxLength, int? MaxExamples,
        TrainingPrecision Precision, IReadOnlyList<string>? Labels);

    static Splits ParseSplit(string value) => value.ToLowerInvariant() switch
    {
        "default" => Splits.Default,
        "validation" or "valid" or "dev" => Splits.Validation,
        "test" => Splits.Test,
        "both" or "all" => Splits.Both,
        _ => throw new CliUsageException($"--split: '{value}' is not validation, test or both"),
    };

    static int Run(CliConsole console, EvalRequest request, int threadCount, bool json)
    {
        using var threads = TorchThreads.Use(threadCount);
        var (source, scores) = TrainingDisplay.Run(console, json, display =>
        {
            var tokenizer = TokenizerLoader.ForModel(request.Model);
            var (source, task) = request.Data.Bind(request.Model, tokenizer, request.BatchSize, request.MaxLength, display.Stage, request.MaxExamples, request.Labels);
            var wanted = new List<(string Name, IEvaluator Evaluator)>();
            if (request.Splits is Splits.Validation or Splits.Both || (request.Splits == Splits.Default && task.Test is null))
                wanted.Add(("validation", task.Validation));
            if (request.Splits is Splits.Test or Splits.Both || (request.Splits == Splits.Default && task.Test is not null))
                wanted.Add(("test", task.Test ?? throw new CliUsageException($"{source.Name} has no test split (use --split validation, or give --test FILE)")));

            var model = FineTuning.LoadModel(request.Model, task, request.Precision, seed: 42);
            if (request.Adapter is null && task.Head is ModelTask.SequenceClassification or ModelTask.TokenClassification)
                display.Stage("no --adapter: the classification head is newly initialised, so scores are those of an untrained head");
            using var scored = request.Adapter is null ? null : PeftModel.Load(model, request.Adapter);
            nn.Module<ModelInputs, ModelOutputs> evaluated = scored is null ? model : scored;
            var results = new List<(string Split, int Examples, IReadOnlyDictionary<string, double> Metrics)>();
            foreach (var (name, evaluator) in wanted)
            {
                display.Stage($"scoring the {name} split");
                results.Add((name, name == "test" ? task.TestExamples : task.ValidationExamples, evaluator.Evaluate(evaluated)));
            }
            if (scored is null) model.Dispose();
            return (source.Name, results);
        });

        if (json)
        {
            var document = new JsonObject
            {
                ["model"] = request.Model,
                ["adapter"] = request.Adapter,
                ["data"] = source,
                ["splits"] = new JsonObject(scores.Select(s => KeyValuePair.Create(s.Split, (JsonNode?)new JsonObject
                {
                    ["examples"] = s.Examples,
                    ["metrics"] = ReportFormat.Metrics(s.Metrics),
                }))),
            };
            console.WriteJson(document);
            return ExitCodes.Success;
        }
        var metricNames = scores.SelectMany(s => s.Metrics.Keys).Distinct().ToList();
        var rows = scores.Select(s => (IReadOnlyList<string>)[s.Split, Numbers.Count(s.Examples),
            .. metricNames.Select(n => s.Metrics.TryGetValue(n, out double v) ? Numbers.Fixed(v, 4) : "-")]);
        console.Ansi.WriteLine($"{request.Model}{(request.Adapter is null ? "" : $" + {request.Adapter}")} on {source}");
        console.Ansi.Write(ReportFormat.Table(["split", "examples", .. metricNames.Select(ComparisonTable.Label)], rows));
        return ExitCodes.Success;
    }
}
