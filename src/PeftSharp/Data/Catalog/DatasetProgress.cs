namespace PeftSharp.Data.Catalog;

/// <summary>A step of <see cref="DatasetCatalog.Prepare(string, string, IProgress{DatasetProgress}, CancellationToken)"/>: "cache", "fetch", "verify", "extract", "convert" or "done".</summary>
/// <param name="Dataset">The dataset's catalog name.</param>
/// <param name="Stage">The step.</param>
/// <param name="Message">What happened, for a person to read.</param>
public sealed record DatasetProgress(string Dataset, string Stage, string Message);
