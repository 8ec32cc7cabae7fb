using System.CommandLine;
using System.Globalization;
using PeftSharp.Cli.Reports;
using PeftSharp.Cli.Training;
using PeftSharp.Experiments;
using Spectre.Console;

namespace PeftSharp.Cli.Commands;

/// <summary>
/// <c>peft madx [--model DIR] [--languages A,B] [--task NAME] [--lang-steps N] [--task-steps N] [...]</c>: the MAD-X
/// workflow measured (see docs/adapters.md): a language adapter per domain trained by language modelling, their
/// held-out loss on every domain, a task adapter trained over the first domain's language adapter, and its scores over
/// each language adapter and over none. Writes a report directory with the three adapters in PEFT layout.
/// </summary>
static class MadXCommand
{
    public static Command Create(CliConsole console)
    {
        var defaults = new MadXOptions();
        var model = new Option<string>("--model", "-m") { Description = "Pretrained model directory with a masked-LM (or causal-LM) head", HelpName = "DIR", DefaultValueFactory = _ => defaults.Model };
        var languages = new Option<string>("--languages") { Description = "Comma-separated language-modelling datasets, one language adapter each; the first is the task's domain", HelpName = "A,B", DefaultValueFactory = _ => string.Join(",", MadXOptions.DefaultLanguages) };
        var task = new Option<string>("--task") { Description = "Classification dataset of the first language's domain: a catalog name or a JSONL/CSV/TSV file", HelpName = "NAME|FILE", DefaultValueFactory = _ => MadXOptions.DefaultTask };
        var languageSteps = new Option<int>("--lang-steps") { Description = "Optimizer steps of each language adapter", HelpName = "N", DefaultValueFactory = _ => defaults.LanguageSteps };
        var taskSteps = new Option<int>("--task-steps") { Description = "Optimizer steps of the task adapter", HelpName = "N", DefaultValueFactory = _ => defaults.TaskSteps };
        var languageRate = new Option<double>("--lang-lr") { Description = "Peak learning rate of the language adapters", HelpName = "LR", DefaultValueFactory = _ => defaults.LanguageLearningRate };
        var taskRate = new Option<double>("--task-lr") { Description = "Peak learning rate of the task adapter", HelpName = "LR", DefaultValueFactory = _ => defaults.TaskLearningRate };
        var batch = new Option<int>("--batch-size") { Description = "Examples per step", HelpName = "N", DefaultValueFactory = _ => defaults.BatchSize };
        var maxLength = new Option<int>("--max-length") { Description = "Longest input in tokens", HelpName = "N", DefaultValueFactory = _ => defaults.MaxLength };
        var seed = new Option<long>("--seed") { Description = "Seed of adapters, head, batch order, masks and dropout (the same for every adapter)", HelpName = "S", DefaultValueFactory = _ => defaults.Seed };
        var threads = TrainingFlags.Threads();
        var maxTest = new Option<int?>("--max-test") { Description = "Score at most N held-out texts per language and N task test examples (a fixed sample)", HelpName = "N" };
        var output = new Option<string?>("--out", "-o") { Description = "Report directory (default runs/madx-<date>-<time>)", HelpName = "DIR" };
        var force = TrainingFlags.Force();
        var cache = new Option<string?>("--cache") { Description = "Dataset cache folder", HelpName = "DIR" };
        var json = CommonOptions.Json();
        var command = new Command("madx", "MAD-X measured: language adapters per domain, a task adapter over one, scored over its own, another and no language adapter")
        {
            model, languages, task, languageSteps, taskSteps, languageRate, taskRate, batch, maxLength, seed, threads, maxTest, output, force, cache, json,
        };
        command.SetAction(parse =>
        {
            var options = new MadXOptions
            {
                Model = parse.GetValue(model)!,
                Languages = TrainingFlags.SplitList(parse.GetValue(languages)!),
                Task = parse.GetValue(task)!,
                LanguageSteps = parse.GetValue(languageSteps),
                TaskSteps = parse.GetValue(taskSteps),
                LanguageLearningRate = parse.GetValue(languageRate),
                TaskLearningRate = parse.GetValue(taskRate),
                BatchSize = parse.GetValue(batch),
                MaxLength = parse.GetValue(maxLength),
                Seed = parse.GetValue(seed),
                Threads = parse.GetValue(threads) ?? CompareCommand.DefaultThreads(),
                MaxTestExamples = parse.GetValue(maxTest),
                CacheDirectory = parse.GetValue(cache),
            };
            return Run(console, options, parse.GetValue(output), parse.GetValue(force), TrainingFlags.CommandLine(parse), parse.GetValue(json));
        });
        return command;
    }

    static int Run(CliConsole console, MadXOptions options, string? outPath, bool force, string commandLine, bool json)
    {
        options.Validate();
        if (!Directory.Exists(options.Model))
            throw new CliUsageException($"{options.Model}: no such model directory{(options.Model == ComparisonOptions.DefaultModel ? " (run from the repository root, or give --model)" : "")}");
        string report = outPath ?? Path.Combine("runs", $"madx-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
        OutputDirectory.Check(report, force, options.Model);
        if (Directory.Exists(report)) Directory.Delete(report, recursive: true);
        options = options with { OutputDirectory = report };

        using var cancel = new CancelOnCtrlC();
        MadXResult result;
        try
        {
            result = TrainingDisplay.Run(console, json, display => MadXExperiment.Run(options, display, cancel.Token));
        }
        catch
        {
            // A failed run leaves no half-made report (bad input fails before any training).
            if (Directory.Exists(report)) Directory.Delete(report, recursive: true);
            throw;
        }
        var finished = DateTime.UtcNow;
        MadXReport.Write(report, result, commandLine, finished);
        int code = result.Interrupted ? ExitCodes.Interrupted : ExitCodes.Success;
        if (json)
        {
            console.WriteJson(MadXReport.Json(result, report, commandLine, finished));
            return code;
        }
        console.Ansi.WriteLine($"{result.Objective} loss (perplexity) on held-out text:");
        console.Ansi.Write(ReportFormat.Table(MadXReport.LanguageModelingHeader(result), MadXReport.LanguageModelingRows(result)));
        if (result.TaskScores.Count > 0)
        {
            console.Ansi.WriteLine($"{result.TaskData} {result.ScoredSplit} set of {Numbers.Count(result.ScoredExamples)}, task adapter {result.TaskAdapter} trained over {result.Languages[0].Adapter}:");
            console.Ansi.Write(ReportFormat.Table(MadXReport.TaskHeader(result), MadXReport.TaskRows(result)));
            console.Ansi.WriteLine(MadXReport.FrozenLine(result));
        }
        console.Ansi.WriteLine($"{options.LanguageSteps} steps per language adapter, {options.TaskSteps} for the task adapter, × {options.BatchSize}; {Numbers.Fixed(result.Duration.TotalMinutes, 1)} min");
        console.Ansi.WriteLine($"report: {report} (summary.md, results.json, adapters/)");
        if (result.Interrupted) console.Error.WriteLine("interrupted: the report holds what was measured before");
        return code;
    }
}
