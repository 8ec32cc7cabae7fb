using static TorchSharp.torch;

namespace PeftSharp.Tuners.Common;

/// <summary>
/// Mixed-batch inference: while a routing scope is open, row i of every batch passed through adapter layers uses only
/// the adapter named RowAdapters[i] ("__base__" for none). Layers read <see cref="Current"/> and compute each adapter's
/// contribution on its own rows.
/// </summary>
public static class AdapterRouting
{
    /// <summary>The row name that means "no adapter".</summary>
    public const string BaseModel = "__base__";

    static readonly AsyncLocal<string[]?> Rows = new();

    /// <summary>The adapter of each row while a scope is open, else null.</summary>
    public static IReadOnlyList<string>? Current => Rows.Value;

    /// <summary>Routes rows to adapters until the returned scope is disposed.</summary>
    public static IDisposable PerRow(IReadOnlyList<string> rowAdapters)
    {
        var previous = Rows.Value;
        Rows.Value = rowAdapters.ToArray();
        return new Scope(() => Rows.Value = previous);
    }

    /// <summary>
    /// Groups the rows of a batch by adapter: for each adapter name among <paramref name="held"/>, the int64 indices of its
    /// rows. Rows of adapters the layer does not hold get no contribution there.
    /// </summary>
    public static IEnumerable<(string Adapter, Tensor Rows)> Groups(IReadOnlyList<string> rowAdapters, long batch, IEnumerable<string> held, Device device)
    {
        if (rowAdapters.Count != batch)
            throw new ArgumentException($"adapter routing names {rowAdapters.Count} rows but the batch has {batch}");
        var heldSet = held.ToHashSet(StringComparer.Ordinal);
        foreach (var group in rowAdapters.Select((name, row) => (name, row)).GroupBy(x => x.name))
            if (heldSet.Contains(group.Key))
                yield return (group.Key, tensor(group.Select(x => (long)x.row).ToArray(), ScalarType.Int64, device));
    }

    sealed class Scope : IDisposable
    {
        readonly Action _close;
        bool _closed;
        public Scope(Action close) => _close = close;
        public void Dispose()
        {
            if (_closed) return;
            _closed = true;
            _close();
        }
    }
}
