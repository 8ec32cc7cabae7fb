using System.CommandLine;
using PeftSharp.Bench;
using PeftSharp.Bench.Harness;

namespace PeftSharp.Cli.Commands;

/// <summary>
/// <c>peft bench &lt;suite&gt; [--trials N] [--filter A,B] [--threads N] [--json] ...</c>: the benchmark suites of
/// bench/PeftSharp.Bench, run in this process. The options are built from <see cref="BenchOptions.Specs"/> and the
/// arguments handed to the bench program's own parser, so both command lines accept exactly the same options and
/// report bad values with the same messages (here as one line, exit code 1).
/// </summary>
static class BenchCommand
{
    public static Command Create(CliConsole console)
    {
        var suite = new Argument<string>("suite")
        {
            Description = $"The suite to run: {string.Join(", ", SuiteRegistry.All.Select(s => s.Name))}, or all",
        };
        suite.CompletionSources.Add(SuiteRegistry.All.Select(s => s.Name).Append("all").ToArray());
        var command = new Command("bench",
            "Benchmark PeftSharp: matmul peaks, loading, forward passes, adapter overhead, LoRA serving and training. Every figure is a ratio to a " +
            "reference measured in the same process (see docs/benchmarks.md)") { suite };
        // Options take their values as text: the bench parser checks them, with the messages the bench program gives.
        var valued = new List<(BenchOptionSpec Spec, Option<string> Option)>();
        var flags = new List<(BenchOptionSpec Spec, Option<bool> Option)>();
        foreach (var spec in BenchOptions.Specs)
        {
            if (spec.ValueName is null)
            {
                var flag = new Option<bool>(spec.Name) { Description = spec.Description };
                flags.Add((spec, flag));
                command.Options.Add(flag);
            }
            else
            {
                var option = new Option<string>(spec.Name) { Description = spec.Description, HelpName = spec.ValueName };
                valued.Add((spec, option));
                command.Options.Add(option);
            }
        }
        command.SetAction(parse =>
        {
            var args = new List<string> { parse.GetValue(suite)! };
            foreach (var (spec, option) in valued)
                if (parse.GetValue(option) is { } value) args.AddRange(new[] { spec.Name, value });
            foreach (var (spec, flag) in flags)
                if (parse.GetValue(flag)) args.Add(spec.Name);
            // Throws ArgumentException (unknown suite, bad value): reported as one line with exit code 1.
            var request = BenchProgram.Parse(args.ToArray(), "peft bench");
            return BenchProgram.Run(request, console.Out, console.Error) == 0 ? ExitCodes.Success : ExitCodes.RuntimeFailure;
        });
        return command;
    }
}
