using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace PeftSharp.Cli;

/// <summary>
/// Where a command writes: human output through Spectre.Console (colour and live displays only on an interactive
/// terminal and without NO_COLOR), JSON as plain text on stdout, diagnostics on stderr.
/// </summary>
public sealed class CliConsole
{
    /// <summary>Width used when stdout is not a terminal, so tables and trees are not wrapped at 80 columns.</summary>
    const int RedirectedWidth = 200;

    static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public CliConsole(TextWriter stdout, TextWriter stderr, bool interactive, bool noColor)
    {
        Out = stdout;
        Error = stderr;
        Interactive = interactive;
        Ansi = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive && !noColor ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!interactive) Ansi.Profile.Width = RedirectedWidth;
    }

    /// <summary>A console for the process's own stdout/stderr: interactive unless stdout is redirected; NO_COLOR respected.</summary>
    public static CliConsole ForProcess(TextWriter stdout, TextWriter stderr)
    {
        bool interactive = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
        // https://no-color.org: present and not empty disables colour.
        bool noColor = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        return new CliConsole(stdout, stderr, interactive, noColor);
    }

    /// <summary>stdout as plain text.</summary>
    public TextWriter Out { get; }

    /// <summary>stderr.</summary>
    public TextWriter Error { get; }

    /// <summary>stdout through Spectre.Console (no ANSI sequences unless interactive).</summary>
    public IAnsiConsole Ansi { get; }

    /// <summary>Whether stdout is a terminal (live displays and spinners are shown only then).</summary>
    public bool Interactive { get; }

    /// <summary>Writes one JSON document to stdout.</summary>
    public void WriteJson(JsonNode node)
    {
        Out.WriteLine(node.ToJsonString(JsonOptions));
        Out.Flush();
    }

    /// <summary>Runs <paramref name="work"/>, with a spinner saying what happens when the terminal is interactive and not in JSON mode.</summary>
    public T Status<T>(string what, bool json, Func<T> work) =>
        Interactive && !json ? Ansi.Status().Start(what, _ => work()) : work();
}
