using PeftSharp.Tuners.Common;

namespace PeftSharp.Tests.Cli;

/// <summary><c>peft methods</c> and every command's --help.</summary>
public class MethodsAndHelpTests
{
    [Fact]
    public void MethodsListsEveryRegisteredMethod()
    {
        var json = CliRunner.Json("methods", "--json");
        var listed = json["methods"]!.AsArray().Select(m => ((string)m!["peft_type"]!, (string)m["description"]!)).ToList();
        Assert.Equal(PeftMethods.All.Select(m => (m.PeftType, m.Description)), listed);
        Assert.Contains(listed, m => m.Item1 == "LORA");

        var human = CliRunner.Run("methods");
        Assert.Equal(0, human.ExitCode);
        foreach (var method in PeftMethods.All) Assert.Contains(method.PeftType, human.Stdout);
    }

    [Theory]
    [InlineData("inspect", "--model", "--adapter")]
    [InlineData("generate", "--prompt", "--max-new-tokens", "--temperature", "--top-k", "--top-p", "--seed", "--stop")]
    [InlineData("merge", "--out", "--dtype", "--safe", "--force")]
    [InlineData("methods")]
    public void EveryCommandHasHelp(string command, params string[] options)
    {
        var result = CliRunner.Run(command, "--help");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.Stderr);
        Assert.Contains($"peft {command}", result.Stdout);
        foreach (string option in options.Append("--json")) Assert.Contains(option, result.Stdout);
    }

    [Fact]
    public void RootHelpListsTheCommands()
    {
        var result = CliRunner.Run("--help");
        Assert.Equal(0, result.ExitCode);
        foreach (string command in new[] { "inspect", "generate", "merge", "methods" }) Assert.Contains(command, result.Stdout);
    }
}
