using System.CommandLine;
using System.Diagnostics;
using PeftSharp.Cli.Reports;
using PeftSharp.Cli.Training;
using PeftSharp.Experiments;
using PeftSharp.Models;
using PeftSharp.Tokenization;
using PeftSharp.Training;
using PeftSharp.Tuners;
using Spectre.Console;

namespace PeftSharp.Cli.Commands;

/// <summary>
/// <c>peft train --model DIR --data NAME|FILE --method NAME [--config FILE.json] --out DIR [...]</c>: fine-tunes a model
/// with one method and writes the run directory: config.json, metrics.jsonl, checkpoints/, adapter/, results.json,
/// summary.md and plots. Settings stack: the method's defaults, then the config file, then flags. Ctrl+C writes a
/// checkpoint; <c>--resume DIR</c> continues it.
/// </summary>
static class TrainCommand
{
    public static Command Create(CliConsole console)
    {
        var model = new Option<string?>("--model", "-m") { Description = "Base model: Hugging Face directory (required unless --resume)", HelpName = "DIR" };
        var data = new DataFlags();
        data.Data.Required = false;
        var method = new Option<string?>("--method") { Description = $"Method: {string.Join(", ", MethodRecipes.All.Select(r => r.Name))}", HelpName = "NAME" };
        var config = new Option<string?>("--config") { Description = "adapter_config.json (peft_type and the method's fields) with an optional \"training\" section; flags override it", HelpName = "FILE" };
        var output = new Option<string?>("--out", "-o") { Description = "Run directory to write (required unless --resume)", HelpName = "DIR" };
        var maxSteps = new Option<int?>("--max-steps") { Description = "Optimizer steps (overrides --epochs)", HelpName = "N" };
        var epochs = new Option<int?>("--epochs") { Description = "Passes over the training data (default 1)", HelpName = "N" };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate (default: the method's)", HelpName = "LR" };
        var batch = new Option<int?>("--batch-size") { Description = $"Examples per step (default {TrainingSettings.DefaultBatchSize})", HelpName = "N" };
        var maxLength = new Option<int?>("--max-length") { Description = $"Longest input in tokens (default {TrainingSettings.DefaultMaxLength})", HelpName = "N" };
        var seed = new Option<long?>("--seed") { Description = "Seed of the head, the adapter, the batch order and dropout (default 42)", HelpName = "S" };
        var precision = TrainingFlags.Precision("fp32 (default) or bf16 (the base computes in bf16, adapters stay float32)");
        var warmup = new Option<double?>("--warmup-ratio") { Description = "Share of steps spent warming up (default 0.06)", HelpName = "R" };
        var evalSteps = new Option<int?>("--eval-steps") { Description = "Validation every N steps (default: at the end only)", HelpName = "N" };
        var saveSteps = new Option<int?>("--save-steps") { Description = "Checkpoint every N steps (default: at the end and on Ctrl+C)", HelpName = "N" };
        var threads = TrainingFlags.Threads();
        var resume = new Option<string?>("--resume") { Description = "Continue the interrupted run in DIR (its config.json holds every setting; give no others)", HelpName = "DIR" };
        var force = TrainingFlags.Force();
        var json = CommonOptions.Json();
        var command = new Command("train", "Fine-tune a model with one method and write the adapter and a report")
        {
            model, method, config, output, maxSteps, epochs, lr, batch, maxLength, seed, precision, warmup, evalSteps, saveSteps, threads, resume, force, json,
        };
        foreach (var option in data.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            string commandLine = TrainingFlags.CommandLine(parse);
            if (parse.GetValue(resume) is { } directory)
            {
                var given = command.Options.Where(o => o != resume && o != json && o != threads && parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
                if (given.Count > 0) throw new CliUsageException($"--resume takes every setting from {directory}/{TrainRun.FileName}; drop {string.Join(", ", given)}");
                var run = TrainRun.Read(directory);
                return Run(console, parse.GetValue(threads) is int t ? run with { Threads = t } : run, directory, resume: true, force: false, parse.GetValue(json));
            }
            string modelPath = parse.GetValue(model) ?? throw new CliUsageException("--model is required (see 'peft train --help')");
            string outPath = parse.GetValue(output) ?? throw new CliUsageException("--out is required (see 'peft train --help')");
            if (parse.GetValue(data.Data) is null) throw new CliUsageException("--data is required (see 'peft train --help')");
            var flags = new TrainingSettings
            {
                MaxSteps = parse.GetValue(maxSteps), Epochs = parse.GetValue(epochs), LearningRate = parse.GetValue(lr), BatchSize = parse.GetValue(batch),
                MaxLength = parse.GetValue(maxLength), Seed = parse.GetValue(seed), WarmupRatio = parse.GetValue(warmup), EvalSteps = parse.GetValue(evalSteps),
                SaveSteps = parse.GetValue(saveSteps), Precision = parse.GetValue(precision) is { } p ? TrainingFlags.ParsePrecision(p) : null,
            };
            var planned = Plan(modelPath, data.Read(parse), parse.GetValue(method), parse.GetValue(config), flags, commandLine,
                parse.GetValue(threads) ?? CompareCommand.DefaultThreads());
            return Run(console, planned, outPath, resume: false, parse.GetValue(force), parse.GetValue(json));
        });
        return command;
    }

    /// <summary>
    /// The run's settings: the method's recipe (adapter config, learning rate) under the config file's adapter fields and
    /// "training" section, under the flags.
    /// </summary>
    static TrainRun Plan(string modelPath, DataChoice data, string? methodName, string? configPath, TrainingSettings flags, string commandLine, int threads)
    {
        if (!Directory.Exists(modelPath)) throw new CliUsageException($"{modelPath}: no such model directory");
        var file = configPath is null ? null : TrainingConfigFile.Read(configPath);
        var recipe = methodName is null ? null : MethodRecipes.Find(methodName);
        if (recipe is null && file?.Adapter is null)
            throw new CliUsageException("name a method with --method, or give --config with a peft_type (see 'peft train --help')");
        var (_, probe) = AutoModel.ReadConfig(modelPath);
        var adapter = file?.Adapter ?? recipe!.ConfigFor(probe);
        if (recipe is not null && file?.Adapter is { } fromFile && fromFile.PeftType != recipe.ConfigFor(probe).PeftType)
            throw new CliUsageException($"--method {recipe.Name} is {recipe.ConfigFor(probe).PeftType} but {configPath} says peft_type {fromFile.PeftType}");
        recipe ??= MethodRecipes.ForPeftType(adapter.PeftType, probe);
        var defaults = new TrainingSettings
        {
            LearningRate = recipe?.LearningRate, BatchSize = TrainingSettings.DefaultBatchSize, MaxLength = TrainingSettings.DefaultMaxLength, Seed = 42,
        };
        var settings = defaults.Over(file?.Training ?? new TrainingSettings()).Over(flags);
        try
        {
            settings.ToTrainingOptions(null);   // validate before anything is loaded
        }
        catch (ArgumentException e) when (e.ParamName is { } option)
        {
            // The library names its option (MaxSteps); the user set a flag (--max-steps) or a config key (max_steps).
            string key = System.Text.RegularExpressions.Regex.Replace(option, "(?<!^)([A-Z])", "_$1").ToLowerInvariant();
            string flag = option == "LearningRate" ? "lr" : key.Replace('_', '-');
            string reason = e.Message.Replace($"training option {option} ", "").Replace(" (Parameter '" + option + "')", "");
            throw new CliUsageException($"--{flag} (or \"{key}\" in the config's \"training\" section) {reason}");
        }
        return new TrainRun(commandLine, modelPath, data, recipe?.Name ?? adapter.PeftType.ToLowerInvariant(), adapter with { BaseModelNameOrPath = modelPath },
            settings, null, threads);
    }

    static int Run(CliConsole console, TrainRun run, string outPath, bool resume, bool force, bool json)
    {
        string? checkpoint = null;
        if (resume)
        {
            checkpoint = TrainingCheckpoint.Latest(outPath) ?? throw new CliUsageException($"{outPath}: no checkpoint to resume from");
        }
        else
        {
            OutputDirectory.Check(outPath, force, run.Model);
            if (Directory.Exists(outPath)) Directory.Delete(outPath, recursive: true);
        }
        using var threads = TorchThreads.Use(run.Threads);
        using var cancel = new CancelOnCtrlC();
        var outcome = TrainingDisplay.Run(console, json, display =>
        {
            var tokenizer = TokenizerLoader.ForModel(run.Model);
            int batchSize = run.Settings.BatchSize ?? TrainingSettings.DefaultBatchSize;
            var (source, task) = run.Data.Bind(run.Model, tokenizer, batchSize, run.Settings.MaxLength ?? TrainingSettings.DefaultMaxLength, display.Stage,
                labels: run.Labels);
            var current = run with { Labels = task.Labels };
            var options = current.Settings.ToTrainingOptions(outPath);
            var model = FineTuning.LoadModel(run.Model, task, options.Precision, options.Seed);
            long modelParameters = ParameterCounts.Unique(model);
            using var peft = FineTuning.Attach(model, run.Adapter, options.Seed);
            Directory.CreateDirectory(outPath);
            if (!resume) current.Write(outPath);
            display.Stage($"{source.Name}: {TaskNames.Name(task.Head)}, {task.TrainExamples:N0} training examples; {run.Method}: {peft.TrainableParameters()}");
            var clock = Stopwatch.StartNew();
            var result = FineTuning.Train(peft, task, options, task.Validation, display.Training(run.Method ?? "train"), checkpoint, cancel.Token);
            double seconds = clock.Elapsed.TotalSeconds;
            var trained = new TrainingOutcome
            {
                Command = run.Command, Model = run.Model, Data = source.Name, Task = TaskNames.Name(task.Head), Method = run.Method ?? run.Adapter.PeftType,
                PeftType = run.Adapter.PeftType, TrainableParameters = peft.TrainableParameters().Trainable, ModelParameters = modelParameters,
                Result = result, TrainSeconds = seconds, Validation = result.LastEvaluation, PrimaryMetric = task.Validation.PrimaryMetric,
            };
            if (result.StopReason == TrainingStopReason.Cancelled) return trained;
            display.Stage("scoring the test split");
            var test = task.Test?.Evaluate(peft);
            string adapterDirectory = Path.Combine(outPath, "adapter");
            peft.SaveAdapter(adapterDirectory);
            trained = trained with
            {
                Test = test, AdapterDirectory = adapterDirectory,
                AdapterBytes = new FileInfo(Path.Combine(adapterDirectory, AdapterFiles.WeightsFile)).Length,
            };
            TrainingReport.Write(outPath, trained);
            return trained;
        });

        bool interrupted = outcome.Result.StopReason == TrainingStopReason.Cancelled;
        if (json)
        {
            var document = TrainingReport.Json(outcome);
            document["out"] = outPath;
            document["interrupted"] = interrupted;
            console.WriteJson(document);
        }
        else if (interrupted)
        {
            console.Error.WriteLine($"interrupted at step {outcome.Result.Steps}: checkpoint in {outPath}; 'peft train --resume {outPath}' continues");
        }
        else
        {
            var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
            var lines = new List<(string, string)>
            {
                ("run", outPath),
                ("method", $"{outcome.Method} ({outcome.PeftType}), {Numbers.Count(outcome.TrainableParameters)} trainable parameters ({ComparisonTable.Percent(outcome.TrainablePercent)})"),
                ("training", $"{outcome.Result.Steps} steps in {Numbers.Fixed(outcome.TrainSeconds, 1)} s, final loss {Numbers.Fixed(outcome.Result.FinalLoss, 4)}"),
            };
            if (outcome.Validation is { } validation) lines.Add(("validation", Describe(validation)));
            if (outcome.Test is { } test) lines.Add(("test", Describe(test)));
            lines.Add(("adapter", $"{outcome.AdapterDirectory} ({ComparisonTable.Bytes(outcome.AdapterBytes ?? 0)})"));
            foreach (var (key, value) in lines) grid.AddRow(new Markup($"[bold]{key}[/]"), new Text(value));
            console.Ansi.Write(grid);
        }
        return interrupted ? ExitCodes.Interrupted : ExitCodes.Success;
    }

    static string Describe(IReadOnlyDictionary<string, double> metrics) =>
        string.Join(", ", metrics.Select(m => $"{ComparisonTable.Label(m.Key)} {Numbers.Fixed(m.Value, 4)}"));
}
