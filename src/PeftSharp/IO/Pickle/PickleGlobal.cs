namespace PeftSharp.IO.Pickle;

/// <summary>
/// A global (module.name) that the restricted unpickler allowed. Unlike Python's pickle, nothing is imported or
/// executed: each allowed global is a small object that builds plain data when the pickle "calls" it.
/// </summary>
internal abstract class PickleGlobal
{
    protected PickleGlobal(string qualifiedName) => QualifiedName = qualifiedName;

    /// <summary>The global's module and name, e.g. "torch._utils._rebuild_tensor_v2".</summary>
    public string QualifiedName { get; }

    /// <summary>
    /// What REDUCE (<c>callable(*args)</c>) makes of this global; by default calling it is refused.
    /// </summary>
    /// <exception cref="InvalidDataException">This global may not be called, or not with these arguments.</exception>
    public virtual object? Call(IReadOnlyList<object?> args) =>
        throw new InvalidDataException($"pickle calls '{QualifiedName}', which a checkpoint never calls; refusing to load");

    public override string ToString() => QualifiedName;
}
