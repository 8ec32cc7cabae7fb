namespace PeftSharp.Cli;

/// <summary>Process exit codes of the <c>peft</c> command (documented in docs/cli.md).</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>Bad input or usage: unknown option, invalid value, missing or malformed file, adapter that does not fit.</summary>
    public const int BadInput = 1;

    /// <summary>Something failed while running on valid input (native error, out of memory, a bug).</summary>
    public const int RuntimeFailure = 2;

    /// <summary>Training was interrupted (Ctrl+C); a checkpoint was written and <c>--resume</c> continues it (128 + SIGINT).</summary>
    public const int Interrupted = 130;
}
