using System.Text.Json;
using System.Text.Json.Nodes;

namespace PeftSharp.Data.Catalog;

/// <summary>One split of a prepared dataset.</summary>
/// <param name="File">The JSONL file.</param>
/// <param name="Examples">Number of records.</param>
/// <param name="Bytes">Size of the file when it was written (a different size means it was changed or cut short).</param>
/// <param name="LabelCounts">How often each label occurs (for token classification: each tag over all tokens); empty for plain text.</param>
public sealed record PreparedSplit(string File, int Examples, long Bytes, IReadOnlyDictionary<string, long> LabelCounts);

/// <summary>
/// A catalog dataset converted to JSONL train/validation/test files in a cache folder, with the manifest
/// (dataset.json) that marks it complete.
/// </summary>
public sealed class PreparedDataset
{
    /// <summary>Name of the manifest, written last: a folder without it was never finished.</summary>
    public const string ManifestFile = "dataset.json";

    /// <summary>Bumped whenever the conversion changes, so older caches are rebuilt.</summary>
    internal const int FormatVersion = 1;

    PreparedDataset(CatalogEntry entry, string directory, IReadOnlyDictionary<string, PreparedSplit> splits, bool fromCache)
    {
        Entry = entry;
        Directory = directory;
        Splits = splits;
        FromCache = fromCache;
    }

    /// <summary>The catalog entry.</summary>
    public CatalogEntry Entry { get; }

    /// <summary>The folder holding the files.</summary>
    public string Directory { get; }

    /// <summary>"train", "validation" and "test".</summary>
    public IReadOnlyDictionary<string, PreparedSplit> Splits { get; }

    /// <summary>True when an earlier preparation was reused.</summary>
    public bool FromCache { get; }

    public string TrainFile => Splits[CatalogSplits.Train].File;
    public string ValidationFile => Splits[CatalogSplits.Validation].File;
    public string TestFile => Splits[CatalogSplits.Test].File;

    /// <summary>The three files, ready for <see cref="DatasetFiles.LoadTextClassification"/> and its siblings.</summary>
    public DatasetFiles Files => new(TrainFile) { Validation = ValidationFile, Test = TestFile };

    /// <summary>Writes the manifest of a freshly converted folder.</summary>
    internal static void WriteManifest(CatalogEntry entry, string directory, SplitWriter writer)
    {
        var splits = new JsonObject();
        foreach (string split in CatalogSplits.All)
        {
            var labels = new JsonObject();
            foreach (var (label, count) in writer.Labels[split]) labels[label] = count;
            splits[split] = new JsonObject
            {
                ["file"] = SplitWriter.FileName(split),
                ["examples"] = writer.Examples[split],
                ["bytes"] = new FileInfo(Path.Combine(directory, SplitWriter.FileName(split))).Length,
                ["labels"] = labels,
            };
        }
        var manifest = new JsonObject
        {
            ["format"] = FormatVersion,
            ["name"] = entry.Name,
            ["kind"] = entry.Kind.ToString(),
            ["package"] = entry.Package.Name,
            ["version"] = entry.Package.Version,
            ["sha256"] = entry.Package.Sha256,
            ["splits"] = splits,
        };
        File.WriteAllText(Path.Combine(directory, ManifestFile), manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// The dataset in <paramref name="directory"/> when it is complete: a manifest for this entry's package, version,
    /// digest and format, and every split file present with its recorded size. Otherwise null.
    /// </summary>
    internal static PreparedDataset? TryLoad(CatalogEntry entry, string directory)
    {
        string path = Path.Combine(directory, ManifestFile);
        if (!File.Exists(path)) return null;
        try
        {
            if (JsonNode.Parse(File.ReadAllText(path)) is not JsonObject root) return null;
            if (Read<int>(root, "format") != FormatVersion || Read<string>(root, "name") != entry.Name
                || Read<string>(root, "version") != entry.Package.Version || Read<string>(root, "sha256") != entry.Package.Sha256) return null;
            var splits = new Dictionary<string, PreparedSplit>();
            foreach (string split in CatalogSplits.All)
            {
                if (root["splits"]?[split] is not JsonObject node || node["labels"] is not JsonObject labels) return null;
                string file = Path.Combine(directory, Read<string>(node, "file") ?? "");
                long bytes = Read<long>(node, "bytes");
                if (!File.Exists(file) || new FileInfo(file).Length != bytes) return null;
                splits[split] = new PreparedSplit(file, Read<int>(node, "examples"), bytes,
                    labels.ToDictionary(p => p.Key, p => p.Value?.GetValue<long>() ?? 0));
            }
            return new PreparedDataset(entry, directory, splits, fromCache: true);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return null; // an unreadable manifest counts as an unfinished preparation
        }
    }

    static T? Read<T>(JsonObject node, string field) => node[field] is { } value ? value.GetValue<T>() : default;

    /// <summary>The same dataset marked as freshly prepared.</summary>
    internal PreparedDataset Fresh() => new(Entry, Directory, Splits, fromCache: false);
}
