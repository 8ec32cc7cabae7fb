using System.Formats.Tar;
using System.IO.Compression;
using PeftSharp.Data.Catalog;

namespace PeftSharp.Tests.Data.Catalog;

/// <summary>
/// The committed excerpts of each real package (tests/PeftSharp.Tests/Data/Samples, see README.md there) packed into
/// npm-style tarballs, and catalog entries pinned to those tarballs, so the whole preparation runs offline.
/// </summary>
public static class CatalogSamples
{
    public static string Directory(string package) => Path.Combine(Fixtures.RepoRoot, "tests", "PeftSharp.Tests", "Data", "Samples", package);

    /// <summary>Packs a folder as npm does: every file under "package/".</summary>
    public static void Pack(string folder, string tarball, IEnumerable<(string Name, string Content)>? extra = null)
    {
        using var file = File.Create(tarball);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var writer = new TarWriter(gzip, TarEntryFormat.Pax);
        foreach (string path in System.IO.Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            writer.WriteEntry(path, "package/" + Path.GetRelativePath(folder, path).Replace('\\', '/'));
        foreach (var (name, content) in extra ?? [])
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)) };
            writer.WriteEntry(entry);
        }
    }

    /// <summary>
    /// The catalog entry <paramref name="name"/> with its package swapped for the packed sample (version "0.0.0-sample" and
    /// the sample's digest), the tarball placed in <paramref name="cache"/>/packages/ where the fetcher finds it.
    /// </summary>
    public static CatalogEntry Entry(string name, string sampleFolder, string cache)
    {
        var entry = DatasetCatalog.Find(name);
        string packages = Path.Combine(cache, "packages");
        System.IO.Directory.CreateDirectory(packages);
        var sample = entry.Package with { Version = "0.0.0-sample", Sha256 = "" };
        string tarball = Path.Combine(packages, sample.TarballName);
        if (!File.Exists(tarball)) Pack(Directory(sampleFolder), tarball);
        return entry with { Package = sample with { Sha256 = PackageArchive.Sha256(tarball) } };
    }

    /// <summary>The records of a prepared split, as JSON.</summary>
    public static List<System.Text.Json.JsonElement> Records(string file) =>
        File.ReadLines(file).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.Clone()).ToList();
}
