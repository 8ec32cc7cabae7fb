namespace PeftSharp.Cli;

/// <summary>Input the command itself refuses (e.g. a non-empty output directory); reported as one line, exit code 1.</summary>
public sealed class CliUsageException : Exception
{
    public CliUsageException(string message, Exception? inner = null) : base(message, inner) { }
}
