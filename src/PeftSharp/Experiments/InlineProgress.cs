namespace PeftSharp.Experiments;

/// <summary>An <see cref="IProgress{T}"/> that runs its action on the reporting thread (Progress&lt;T&gt; would post elsewhere).</summary>
public sealed class InlineProgress<T>(Action<T> action) : IProgress<T>
{
    /// <inheritdoc/>
    public void Report(T value) => action(value);
}
