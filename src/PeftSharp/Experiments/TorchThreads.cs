using static TorchSharp.torch;

namespace PeftSharp.Experiments;

/// <summary>
/// libtorch's intra-op thread count for the length of a scope. Results of CPU reductions depend on it, so repeatable
/// runs fix it; on a machine whose cores are shared, fewer threads than cores avoid OpenMP threads waiting on each other.
/// </summary>
public static class TorchThreads
{
    /// <summary>Sets the thread count (when <paramref name="threads"/> is positive) until the returned scope is disposed.</summary>
    public static IDisposable Use(int threads)
    {
        int previous = get_num_threads();
        if (threads > 0 && threads != previous) set_num_threads(threads);
        return new Restore(() =>
        {
            if (threads > 0 && get_num_threads() != previous) set_num_threads(previous);
        });
    }

    /// <summary>Threads libtorch uses now.</summary>
    public static int Current => get_num_threads();

    sealed class Restore(Action action) : IDisposable
    {
        bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            action();
        }
    }
}
