using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;
using System.Text.Json;
using PeftSharp.Cli.Commands;

namespace PeftSharp.Cli;

/// <summary>
/// The <c>peft</c> command, callable in-process: parses the arguments, runs the subcommand and turns every failure into
/// one line on stderr and an exit code (<see cref="ExitCodes"/>). PEFTSHARP_DEBUG=1 adds the stack trace.
/// </summary>
public static class PeftCli
{
    /// <summary>Runs <c>peft</c> with <paramref name="args"/>, writing to the given streams; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        Run(args, CliConsole.ForProcess(stdout, stderr));

    /// <summary>Runs <c>peft</c> on a prepared console (tests use this to choose interactivity and colour).</summary>
    public static int Run(string[] args, CliConsole console)
    {
        try
        {
            var parse = BuildRoot(console).Parse(args);
            if (parse.Action is ParseErrorAction)
            {
                string command = parse.CommandResult.Command is RootCommand ? "peft" : $"peft {parse.CommandResult.Command.Name}";
                WriteError(console.Error, $"{string.Join(" ", parse.Errors.Select(e => e.Message))} (see '{command} --help')");
                return ExitCodes.BadInput;
            }
            return parse.Invoke(new InvocationConfiguration { Output = console.Out, Error = console.Error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return Report(Unwrap(e), console.Error);
        }
        finally
        {
            console.Out.Flush();
            console.Error.Flush();
        }
    }

    /// <summary>The root command with every subcommand, bound to <paramref name="console"/>.</summary>
    public static RootCommand BuildRoot(CliConsole console)
    {
        var root = new RootCommand("peft: parameter-efficient fine-tuning tools for Hugging Face models (PeftSharp)")
        {
            InspectCommand.Create(console),
            GenerateCommand.Create(console),
            MergeCommand.Create(console),
            MethodsCommand.Create(console),
            DataCommand.Create(console),
            PretrainCommand.Create(console),
            TrainCommand.Create(console),
            EvalCommand.Create(console),
            CompareCommand.Create(console),
            MadXCommand.Create(console),
            BenchCommand.Create(console),
        };
        root.HelpName = "peft"; // whatever the host process is called (dotnet, a test runner)
        return root;
    }

    /// <summary>Exit code for an exception: <see cref="ExitCodes.BadInput"/> when the input was at fault, else <see cref="ExitCodes.RuntimeFailure"/>.</summary>
    public static int ExitCodeFor(Exception e) => e is PeftSharpException or CliUsageException or ArgumentException or IOException
        or UnauthorizedAccessException or JsonException or InvalidDataException or FormatException
        ? ExitCodes.BadInput
        : ExitCodes.RuntimeFailure;

    static int Report(Exception e, TextWriter stderr)
    {
        int code = ExitCodeFor(e);
        string message = code == ExitCodes.BadInput ? Message(e) : $"{e.GetType().Name}: {Message(e)} (set PEFTSHARP_DEBUG=1 for details)";
        WriteError(stderr, message);
        if (Environment.GetEnvironmentVariable("PEFTSHARP_DEBUG") == "1") stderr.WriteLine(e);
        return code;
    }

    /// <summary>The exception's message without .NET's " (Parameter 'x')" suffix.</summary>
    static string Message(Exception e) =>
        e is ArgumentException { ParamName: { } name } ? e.Message.Replace($" (Parameter '{name}')", "") : e.Message;

    /// <summary>One line: "error: " and the message with line breaks folded.</summary>
    static void WriteError(TextWriter stderr, string message) =>
        stderr.WriteLine("error: " + string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));

    static Exception Unwrap(Exception e) => e switch
    {
        TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        AggregateException { InnerExceptions.Count: 1 } aggregate => Unwrap(aggregate.InnerExceptions[0]),
        _ => e,
    };
}
