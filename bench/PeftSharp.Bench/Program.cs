using PeftSharp.Bench.Harness;
using static TorchSharp.torch;

// PeftSharp benchmarks: dotnet run -c Release --project bench/PeftSharp.Bench -- <suite> [options]
// Every figure is a median over interleaved trials, with its ratio to a reference measured in the same process just
// before and after it (see docs/benchmarks.md).

void PrintUsage(TextWriter writer)
{
    writer.WriteLine(BenchOptions.Usage.Replace("{SUITES}", string.Join(", ", SuiteRegistry.All.Select(s => s.Name))));
    foreach (var s in SuiteRegistry.All) writer.WriteLine($"  {s.Name,-9} {s.Description}");
}

if (args.Length > 0 && args[0] is "-h" or "--help" or "help")
{
    PrintUsage(Console.Out);
    return 0;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    PrintUsage(Console.Error);
    return 2;
}

var suites = options.Suite == "all" ? SuiteRegistry.All.ToList()
    : SuiteRegistry.Find(options.Suite) is { } found ? new List<IBenchmarkSuite> { found } : null;
if (suites is null)
{
    Console.Error.WriteLine($"error: unknown suite '{options.Suite}' (suites: {string.Join(", ", SuiteRegistry.All.Select(s => s.Name))}, all)");
    return 2;
}
if (options.Out is not null && suites.Count > 1)
{
    Console.Error.WriteLine("error: --out names one file; run suites one at a time to choose their paths");
    return 2;
}

set_num_threads(options.Threads);
var machine = MachineInfo.Collect();
string command = "dotnet run -c Release --project bench/PeftSharp.Bench -- " + string.Join(" ", args);
Console.WriteLine($"PeftSharp benchmarks, {DateTimeOffset.Now:yyyy-MM-dd HH:mm zzz}");
foreach (string line in machine.Lines()) Console.WriteLine(line);
Console.WriteLine($"command: {command}");
Console.WriteLine();

using var context = new BenchContext(options, machine);
foreach (var suite in suites)
{
    var started = DateTimeOffset.Now;
    context.Log($"suite {suite.Name}: {suite.Description}");
    var rows = suite.Run(context);
    Console.WriteLine($"== {suite.Name} ({(DateTimeOffset.Now - started).TotalSeconds:0} s, load average now {MachineInfo.CurrentLoadAverage()})");
    Console.WriteLine(Report.Table(rows));
    string path = options.Out ?? Path.Combine(options.RepositoryRoot, "bench", "results", $"{suite.Name}-{started:yyyy-MM-dd}.json");
    Report.WriteJson(path, suite.Name, command, started, machine, options, rows);
    Console.WriteLine($"written: {path}");
    Console.WriteLine();
}
return 0;
