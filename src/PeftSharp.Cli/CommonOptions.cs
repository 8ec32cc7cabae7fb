using System.CommandLine;

namespace PeftSharp.Cli;

/// <summary>Options several subcommands share, so they read and are documented the same everywhere.</summary>
static class CommonOptions
{
    public static Option<bool> Json() => new("--json")
    {
        Description = "Write one JSON document to stdout and nothing else (errors still go to stderr)",
    };

    public static Option<string> Model(string description) => new("--model", "-m")
    {
        Description = description,
        HelpName = "PATH",
        Required = true,
    };

    public static Option<string> Adapter(string description, bool required = false) => new("--adapter", "-a")
    {
        Description = description,
        HelpName = "DIR",
        Required = required,
    };
}
