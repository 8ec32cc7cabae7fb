using System.CommandLine;
using System.Globalization;
using PeftSharp.Cli.Reports;
using PeftSharp.Cli.Training;
using PeftSharp.Experiments;
using Spectre.Console;

namespace PeftSharp.Cli.Commands;

/// <summary>
/// <c>peft compare [--model DIR] [--data NAME] [--methods a,b] [--steps N] [--seeds 1,2,3] [--forgetting] [--low-data 32,128,all] [...]</c>:
/// trains every method on the same task with the same budget and prints the seeds' comparison table, measured; writes
/// a report directory (see docs/compare.md).
/// </summary>
static class CompareCommand
{
    public static Command Create(CliConsole console)
    {
        var defaults = new ComparisonOptions();
        var model = new Option<string>("--model", "-m") { Description = "Pretrained model directory", HelpName = "DIR", DefaultValueFactory = _ => ComparisonOptions.DefaultModel };
        var data = new Option<string>("--data", "--task") { Description = "Task data: a catalog dataset or a JSONL/CSV/TSV/CoNLL file", HelpName = "NAME|FILE", DefaultValueFactory = _ => ComparisonOptions.DefaultData };
        var methods = new Option<string?>("--methods") { Description = $"Comma-separated methods (default all: {string.Join(",", MethodRecipes.All.Select(r => r.Name))})", HelpName = "A,B,..." };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps per method (the budget)", HelpName = "N", DefaultValueFactory = _ => defaults.Steps };
        var batch = new Option<int>("--batch-size") { Description = "Examples per step", HelpName = "N", DefaultValueFactory = _ => defaults.BatchSize };
        var maxLength = new Option<int>("--max-length") { Description = "Longest input in tokens", HelpName = "N", DefaultValueFactory = _ => defaults.MaxLength };
        var seed = new Option<long>("--seed") { Description = "Seed of heads, adapters, batch order and dropout (the same for every method)", HelpName = "S", DefaultValueFactory = _ => defaults.Seed };
        var seeds = new Option<string?>("--seeds") { Description = "Repeat the comparison once per seed and report each method's mean ± sd over them, e.g. 1,2,3 (replaces --seed)", HelpName = "S,S,..." };
        var lr = new Option<string?>("--lr") { Description = "Learning rates replacing the recipes' defaults, e.g. lora=2e-3,full=5e-5", HelpName = "NAME=LR,..." };
        var precision = TrainingFlags.Precision("fp32 (default) or bf16 (bf16 base, float32 adapters)");
        var threads = TrainingFlags.Threads();
        var maxTest = new Option<int?>("--max-test") { Description = "Score at most N test examples (a fixed sample)", HelpName = "N" };
        var forgetting = new Option<bool>("--forgetting") { Description = "Also measure the language-modelling loss on held-out pretraining text before and after each method" };
        var lowData = new Option<string?>("--low-data") { Description = "Also train every method on these training-set sizes, e.g. 32,128,all", HelpName = "N,N,all" };
        var noLatency = new Option<bool>("--no-latency") { Description = "Skip the inference latency measurements" };
        var output = new Option<string?>("--out", "-o") { Description = "Report directory (default runs/compare-<date>-<time>)", HelpName = "DIR" };
        var force = TrainingFlags.Force();
        var cache = new Option<string?>("--cache") { Description = "Dataset cache folder", HelpName = "DIR" };
        var json = CommonOptions.Json();
        var command = new Command("compare", "Train every method on one task with the same budget and measure the seeds' comparison table")
        {
            model, data, methods, steps, batch, maxLength, seed, seeds, lr, precision, threads, maxTest, forgetting, lowData, noLatency, output, force, cache, json,
        };
        command.SetAction(parse =>
        {
            var options = new ComparisonOptions
            {
                Model = parse.GetValue(model)!,
                Data = parse.GetValue(data)!,
                Methods = parse.GetValue(methods) is { } list ? TrainingFlags.SplitList(list) : null,
                Steps = parse.GetValue(steps),
                BatchSize = parse.GetValue(batch),
                MaxLength = parse.GetValue(maxLength),
                Seed = parse.GetValue(seed),
                LearningRates = parse.GetValue(lr) is { } rates ? ParseRates(rates) : new Dictionary<string, double>(),
                Precision = parse.GetValue(precision) is { } p ? TrainingFlags.ParsePrecision(p) : defaults.Precision,
                Threads = parse.GetValue(threads) ?? DefaultThreads(),
                MaxTestExamples = parse.GetValue(maxTest),
                Forgetting = parse.GetValue(forgetting),
                LowData = parse.GetValue(lowData) is { } sizes ? ParseSizes(sizes) : [],
                Latency = !parse.GetValue(noLatency),
                CacheDirectory = parse.GetValue(cache),
            };
            if (parse.GetValue(seeds) is { } seedList)
            {
                if (parse.GetResult(seed) is { Implicit: false })
                    throw new CliUsageException("--seed and --seeds: give one of them");
                return RunSeeds(console, options, ParseSeeds(seedList), parse.GetValue(output), parse.GetValue(force), TrainingFlags.CommandLine(parse), parse.GetValue(json));
            }
            return Run(console, options, parse.GetValue(output), parse.GetValue(force), TrainingFlags.CommandLine(parse), parse.GetValue(json));
        });
        return command;
    }

    /// <summary>One core fewer than the machine has (at least one): libtorch's OpenMP threads slow down badly when they compete for cores.</summary>
    public static int DefaultThreads() => Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>Validates the options and prepares the (emptied) report directory.</summary>
    static string Prepare(ComparisonOptions options, string? outPath, bool force)
    {
        options.Validate();
        if (!Directory.Exists(options.Model))
            throw new CliUsageException($"{options.Model}: no such model directory{(options.Model == ComparisonOptions.DefaultModel ? " (run from the repository root, or give --model)" : "")}");
        string report = outPath ?? Path.Combine("runs", $"compare-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
        OutputDirectory.Check(report, force, options.Model);
        if (Directory.Exists(report)) Directory.Delete(report, recursive: true);
        return report;
    }

    static int Run(CliConsole console, ComparisonOptions options, string? outPath, bool force, string commandLine, bool json)
    {
        string report = Prepare(options, outPath, force);
        options = options with { OutputDirectory = report };

        using var cancel = new CancelOnCtrlC();
        var result = TrainingDisplay.Run(console, json, display => ComparisonRunner.Run(options, display, cancel.Token));
        ComparisonReport.Write(report, result, commandLine, DateTime.UtcNow);
        int code = result.Interrupted ? ExitCodes.Interrupted : ExitCodes.Success;
        if (json)
        {
            console.WriteJson(ComparisonJson.From(result, report));
            return code;
        }
        console.Ansi.Write(ReportFormat.Table(ComparisonTable.Header(result), ComparisonTable.Rows(result)));
        if (result.LowData.Count > 0)
            console.Ansi.Write(ReportFormat.Table(ComparisonTable.LowDataHeader(result), ComparisonTable.LowDataRows(result),
                $"{ComparisonTable.Label(result.PrimaryMetric)} by training-set size"));
        console.Ansi.WriteLine($"{result.DataName} ({result.Task}), {Numbers.Count(result.TrainExamples)} training examples, {result.ScoredSplit} set of {Numbers.Count(result.ScoredExamples)}; " +
            $"{options.Steps} steps × {options.BatchSize} per method; {Numbers.Fixed(result.Duration.TotalMinutes, 1)} min");
        if (result.ForgettingBaseLoss is double before)
            console.Ansi.WriteLine($"forgetting: {result.ForgettingObjective} loss of the pretrained model {Numbers.Fixed(before, 4)} (column: after task training, and the change)");
        console.Ansi.WriteLine($"report: {report} (summary.md, results.json, plots)");
        if (result.Interrupted) console.Error.WriteLine("interrupted: the report holds the methods that finished");
        return code;
    }

    /// <summary>
    /// The comparison once per seed, one after another in this process (each seed's full report in seed-&lt;S&gt;/),
    /// then each method's mean ± sd over the seeds. Latency does not depend on the seed, so only the first run measures it.
    /// </summary>
    static int RunSeeds(CliConsole console, ComparisonOptions options, IReadOnlyList<long> seeds, string? outPath, bool force, string commandLine, bool json)
    {
        string report = Prepare(options, outPath, force);
        Directory.CreateDirectory(report);
        using var cancel = new CancelOnCtrlC();
        var runs = new List<ComparisonResult>();
        foreach (long seed in seeds)
        {
            var run = options with { Seed = seed, Latency = options.Latency && runs.Count == 0, OutputDirectory = SeedsReport.SeedFolder(report, seed) };
            if (!json) console.Ansi.WriteLine($"seed {seed} ({runs.Count + 1} of {seeds.Count})");
            var result = TrainingDisplay.Run(console, json, display => ComparisonRunner.Run(run, display, cancel.Token));
            ComparisonReport.Write(run.OutputDirectory!, result, commandLine, DateTime.UtcNow);
            runs.Add(result);
            if (result.Interrupted || cancel.Token.IsCancellationRequested) break;
        }
        bool interrupted = runs.Count < seeds.Count || runs[^1].Interrupted;
        var spread = SeedSpread.Of(runs, SeedsReport.Metrics(runs));
        SeedsReport.Write(report, runs, spread, commandLine, interrupted);
        int code = interrupted ? ExitCodes.Interrupted : ExitCodes.Success;
        if (json)
        {
            console.WriteJson(SeedsReport.Json(runs, spread, report, interrupted));
            return code;
        }
        var first = runs[0];
        console.Ansi.Write(ReportFormat.Table(SeedsReport.Header(runs), SeedsReport.Rows(runs, spread), $"over seeds {string.Join(", ", runs.Select(r => r.Options.Seed))}"));
        console.Ansi.WriteLine($"{first.DataName} ({first.Task}), {first.ScoredSplit} set of {Numbers.Count(first.ScoredExamples)}; {options.Steps} steps × {options.BatchSize} per method and seed; " +
            $"{Numbers.Fixed(runs.Sum(r => r.Duration.TotalMinutes), 1)} min");
        console.Ansi.WriteLine($"report: {report} (seeds.md, seeds.json, seed-<S>/ with each run's table and plots)");
        if (interrupted) console.Error.WriteLine("interrupted: the report holds the runs and methods that finished");
        return code;
    }

    /// <summary>"1,2,3": at least two distinct integers.</summary>
    public static List<long> ParseSeeds(string text)
    {
        var seeds = new List<long>();
        foreach (string item in TrainingFlags.SplitList(text))
        {
            if (!long.TryParse(item, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seed))
                throw new CliUsageException($"--seeds: '{item}' is not an integer seed");
            if (seeds.Contains(seed)) throw new CliUsageException($"--seeds: seed {seed} is given twice");
            seeds.Add(seed);
        }
        return seeds.Count >= 2 ? seeds : throw new CliUsageException("--seeds: give at least two seeds, e.g. 1,2,3 (one seed is --seed)");
    }

    /// <summary>"lora=2e-3,full=5e-5".</summary>
    static Dictionary<string, double> ParseRates(string text)
    {
        var rates = new Dictionary<string, double>(StringComparer.OrdinalIgnoreCase);
        foreach (string item in TrainingFlags.SplitList(text))
        {
            var parts = item.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) || !(rate > 0) || !double.IsFinite(rate))
                throw new CliUsageException($"--lr: '{item}' is not METHOD=RATE with a positive rate");
            rates[MethodRecipes.Find(parts[0]).Name] = rate;
        }
        return rates;
    }

    /// <summary>"32,128,all": positive sizes; "all" is the whole training set (<see cref="int.MaxValue"/>).</summary>
    public static List<int> ParseSizes(string text)
    {
        var sizes = new List<int>();
        foreach (string item in TrainingFlags.SplitList(text))
        {
            if (item.Equals("all", StringComparison.OrdinalIgnoreCase)) sizes.Add(int.MaxValue);
            else if (int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0) sizes.Add(n);
            else throw new CliUsageException($"--low-data: '{item}' is not a positive number of examples or 'all'");
        }
        return sizes.Count > 0 ? sizes : throw new CliUsageException("--low-data: give sizes such as 32,128,all");
    }
}
