using System.Text.Json.Nodes;
using PeftSharp.Cli;

namespace PeftSharp.Tests.Cli;

/// <summary>What one in-process run of <c>peft</c> wrote and returned.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>stdout parsed as one JSON document.</summary>
    public JsonNode Json() => JsonNode.Parse(Stdout) ?? throw new InvalidOperationException("stdout is JSON null");

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>Runs the <c>peft</c> command in-process, non-interactive and without colour (as when stdout is redirected).</summary>
public static class CliRunner
{
    public static CliResult Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = PeftCli.Run(args, new CliConsole(stdout, stderr, interactive: false, noColor: true));
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Asserts success and returns stdout parsed as JSON.</summary>
    public static JsonNode Json(params string[] args)
    {
        var result = Run(args);
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Equal("", result.Stderr);
        return result.Json();
    }

    /// <summary>
    /// Asserts the bad-input contract: exit code 1, nothing on stdout, exactly one line on stderr without a stack trace,
    /// containing each of <paramref name="expected"/>.
    /// </summary>
    public static void AssertBadInput(CliResult result, params string[] expected)
    {
        Assert.True(result.ExitCode == ExitCodes.BadInput, result.ToString());
        Assert.Equal("", result.Stdout);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, result.ToString());
        Assert.StartsWith("error: ", lines[0]);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.DoesNotContain("Exception", result.Stderr);
        foreach (string text in expected) Assert.Contains(text, lines[0]);
    }
}
