using System.Diagnostics;
using System.Text.Json.Nodes;

namespace PeftSharp.Tests.Cli;

/// <summary>The built <c>peft</c> executable, run as a process: Program.cs wiring, exit codes, streams.</summary>
public class CliProcessTests
{
    [Fact]
    public void ExecutableRunsCommandsAndReportsErrorsByExitCode()
    {
        var ok = Peft(null, "methods", "--json");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains("LORA", JsonNode.Parse(ok.Stdout)!["methods"]!.ToJsonString());
        Assert.Equal("", ok.Stderr);

        string missing = Path.Combine(Path.GetTempPath(), "peftsharp-tests", "no-such-model-" + Guid.NewGuid().ToString("N"));
        var bad = Peft(null, "inspect", "--model", missing);
        CliRunner.AssertBadInput(bad, missing);

        // PEFTSHARP_DEBUG=1 adds the stack trace after the one-line message.
        var debug = Peft("1", "inspect", "--model", missing);
        Assert.Equal(1, debug.ExitCode);
        Assert.StartsWith("error: ", debug.Stderr);
        Assert.Contains("   at ", debug.Stderr);

        var usage = Peft(null, "inspect", "--model", missing, "--unknown");
        CliRunner.AssertBadInput(usage, "--unknown");

        var human = Peft(null, "inspect", "--model", Fixtures.Shared("models", "stories260K-hf"));
        Assert.Equal(0, human.ExitCode);
        Assert.Contains("layers.0-4 (5 x LlamaDecoderLayer)", human.Stdout);
        Assert.DoesNotContain("\u001b[", human.Stdout); // redirected stdout: no ANSI sequences
    }

    static CliResult Peft(string? debug, params string[] args)
    {
        string executable = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "peft.exe" : "peft");
        var start = new ProcessStartInfo(File.Exists(executable) ? executable : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (!File.Exists(executable)) start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "peft.dll"));
        foreach (string arg in args) start.ArgumentList.Add(arg);
        start.Environment["PEFTSHARP_DEBUG"] = debug;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(120_000), "peft did not finish within two minutes");
        return new CliResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}
