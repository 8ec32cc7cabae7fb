using PeftSharp.Bench.Harness;
using static TorchSharp.torch;

namespace PeftSharp.Bench;

/// <summary>What to run: the parsed options, the suites they name, and the command line recorded with the results.</summary>
public sealed record BenchRequest(BenchOptions Options, IReadOnlyList<IBenchmarkSuite> Suites, string CommandLine);

/// <summary>
/// The benchmark program, callable in-process: <c>dotnet run -c Release --project bench/PeftSharp.Bench -- &lt;suite&gt;
/// [options]</c> and <c>peft bench &lt;suite&gt; [options]</c> both end here. Every figure is a median over interleaved
/// trials, with its ratio to a reference measured in the same process just before and after it (docs/benchmarks.md).
/// </summary>
public static class BenchProgram
{
    /// <summary>How the results record a run of the bench project.</summary>
    public const string ProjectCommand = "dotnet run -c Release --project bench/PeftSharp.Bench --";

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>
    /// Runs the program as the bench executable does: usage on -h/--help, exit code 2 with the usage on bad arguments,
    /// else <see cref="Run(BenchRequest, TextWriter, TextWriter)"/>.
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length > 0 && args[0] is "-h" or "--help" or "help")
        {
            stdout.WriteLine(Usage(ProjectCommand));
            return 0;
        }
        BenchRequest request;
        try
        {
            request = Parse(args, ProjectCommand);
        }
        catch (ArgumentException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            stderr.WriteLine(Usage(ProjectCommand));
            return 2;
        }
        return Run(request, stdout, stderr);
    }

    /// <summary>The usage text, with every suite and option.</summary>
    public static string Usage(string commandPrefix) =>
        $"usage: {commandPrefix} <suite> [options]{Environment.NewLine}" +
        $"suites:{Environment.NewLine}{string.Join(Environment.NewLine, SuiteRegistry.All.Select(s => $"  {s.Name,-9} {s.Description}"))}{Environment.NewLine}" +
        $"  {"all",-9} every suite in turn, one JSON file each{Environment.NewLine}" +
        $"options:{Environment.NewLine}{BenchOptions.OptionsUsage()}";

    /// <summary>
    /// Parses <paramref name="args"/> (suite first) into a request; <paramref name="commandPrefix"/> is how the command line
    /// is recorded. Throws <see cref="ArgumentException"/> with one line naming the problem (unknown suite or option, bad value).
    /// </summary>
    public static BenchRequest Parse(string[] args, string commandPrefix)
    {
        var options = BenchOptions.Parse(args);
        var suites = options.Suite == "all" ? SuiteRegistry.All.ToList()
            : SuiteRegistry.Find(options.Suite) is { } found ? new List<IBenchmarkSuite> { found }
            : throw new ArgumentException($"unknown suite '{options.Suite}' (suites: {string.Join(", ", SuiteRegistry.All.Select(s => s.Name))}, all)");
        if (options.Out is not null && suites.Count > 1)
            throw new ArgumentException("--out names one file; run suites one at a time to choose their paths");
        return new BenchRequest(options, suites, $"{commandPrefix} {string.Join(" ", args.Select(Quote))}");
    }

    /// <summary>
    /// Runs the suites: machine facts, then per suite a table (or, with --json, one JSON document for the whole run) on
    /// <paramref name="stdout"/>, progress on <paramref name="stderr"/>, and the JSON file. Torch's thread count is set for
    /// the run and restored afterwards, so an in-process caller (the CLI's tests) keeps its own.
    /// </summary>
    public static int Run(BenchRequest request, TextWriter stdout, TextWriter stderr)
    {
        var options = request.Options;
        int previousThreads = get_num_threads();
        set_num_threads(options.Threads);
        try
        {
            var machine = MachineInfo.Collect();
            if (!options.Json)
            {
                stdout.WriteLine($"PeftSharp benchmarks, {DateTimeOffset.Now:yyyy-MM-dd HH:mm zzz}");
                foreach (string line in machine.Lines()) stdout.WriteLine(line);
                stdout.WriteLine($"command: {request.CommandLine}");
                stdout.WriteLine();
            }

            var documents = new List<object>();
            using var context = new BenchContext(options, machine, stderr);
            foreach (var suite in request.Suites)
            {
                var started = DateTimeOffset.Now;
                context.Log($"suite {suite.Name}: {suite.Description}");
                var rows = suite.Run(context);
                var document = Report.Document(suite.Name, request.CommandLine, started, machine, options, rows);
                documents.Add(document);
                // With --json, stdout carries the results, so a file is written only where --out asks for one.
                string? path = options.Out ?? (options.Json ? null : Path.Combine(options.RepositoryRoot, "bench", "results", $"{suite.Name}-{started:yyyy-MM-dd}.json"));
                if (path is not null) Report.WriteJson(path, document);
                if (options.Json)
                {
                    if (path is not null) context.Log($"written: {path}");
                    continue;
                }
                stdout.WriteLine($"== {suite.Name} ({(DateTimeOffset.Now - started).TotalSeconds:0} s, load average now {MachineInfo.CurrentLoadAverage()})");
                stdout.WriteLine(Report.Table(rows));
                stdout.WriteLine($"written: {path}");
                stdout.WriteLine();
            }
            if (options.Json) stdout.WriteLine(Report.ToJson(documents.Count == 1 ? documents[0] : documents));
            stdout.Flush();
            return 0;
        }
        finally
        {
            set_num_threads(previousThreads);
        }
    }

    /// <summary>An argument as a shell would need it to reproduce the command ("fp32 decode" keeps its quotes).</summary>
    static string Quote(string argument) =>
        argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'' or '$' or '`' or '\\' or ';' or '&' or '|' or '*' or '?')
            ? argument
            : "'" + argument.Replace("'", "'\\''") + "'";
}
