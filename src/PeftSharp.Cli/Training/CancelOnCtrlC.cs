namespace PeftSharp.Cli.Training;

/// <summary>
/// The first Ctrl+C cancels a token (training then writes a checkpoint and stops); a second one ends the process as
/// usual. Hooks Console.CancelKeyPress only while the scope lives.
/// </summary>
sealed class CancelOnCtrlC : IDisposable
{
    readonly CancellationTokenSource _source = new();

    public CancelOnCtrlC() => Console.CancelKeyPress += OnCancel;

    /// <summary>Cancelled by the first Ctrl+C.</summary>
    public CancellationToken Token => _source.Token;

    void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        if (_source.IsCancellationRequested) return;
        e.Cancel = true;
        _source.Cancel();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _source.Dispose();
    }
}
