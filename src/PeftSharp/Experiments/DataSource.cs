using PeftSharp.Data;
using PeftSharp.Data.Catalog;

namespace PeftSharp.Experiments;

/// <summary>
/// A dataset named on a command line: a catalog name ("brown-genre", prepared into the cache on first use) or a data
/// file (JSONL, CSV, TSV, CoNLL, text) with optional validation and test files, and what its records hold.
/// </summary>
/// <param name="Name">The catalog name, or the training file's name.</param>
/// <param name="Files">The files to read.</param>
/// <param name="Kind">What the records hold: from the catalog, or read off the file's first record.</param>
/// <param name="Entry">The catalog entry, or null for a file.</param>
public sealed record DataSource(string Name, DatasetFiles Files, DatasetKind Kind, CatalogEntry? Entry)
{
    /// <summary>
    /// A file when <paramref name="nameOrPath"/> names one, else a catalog dataset (prepared in
    /// <paramref name="cacheDirectory"/>, default <see cref="DatasetCatalog.DefaultCacheDirectory"/>).
    /// </summary>
    /// <param name="nameOrPath">A catalog name or the training file.</param>
    /// <param name="read">Format and columns of the files.</param>
    /// <param name="validation">A validation file (files only; without one, 10% of the training file is held out).</param>
    /// <param name="test">A test file (files only).</param>
    /// <param name="cacheDirectory">The dataset cache.</param>
    /// <param name="progress">Receives the catalog's preparation steps.</param>
    /// <exception cref="DataFormatException">A file is missing or its kind cannot be told.</exception>
    /// <exception cref="ArgumentException">Neither a file nor a catalog name; or validation/test files given with a catalog name.</exception>
    public static DataSource Resolve(string nameOrPath, DataReadOptions? read = null, string? validation = null, string? test = null,
        string? cacheDirectory = null, IProgress<DatasetProgress>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrPath);
        read ??= DataReadOptions.Default;
        if (File.Exists(nameOrPath) || LooksLikePath(nameOrPath))
        {
            foreach (string? file in new[] { nameOrPath, validation, test })
                if (file is not null && !File.Exists(file)) throw new DataFormatException(file, null, null, "file not found");
            var files = new DatasetFiles(nameOrPath) { Validation = validation, Test = test, Read = read };
            return new DataSource(Path.GetFileName(nameOrPath), files, InferKind(nameOrPath, read), null);
        }
        if (validation is not null || test is not null)
            throw new ArgumentException($"'{nameOrPath}' is a catalog dataset with its own splits; --validation and --test go with data files", nameof(validation));
        var entry = DatasetCatalog.Find(nameOrPath);
        var prepared = DatasetCatalog.Prepare(entry.Name, cacheDirectory ?? DatasetCatalog.DefaultCacheDirectory, progress);
        return new DataSource(entry.Name, prepared.Files with { Read = read }, entry.Kind, entry);
    }

    /// <summary>A name with a directory separator or a data-file extension is meant as a file, never as a catalog name.</summary>
    static bool LooksLikePath(string text) =>
        text.Contains('/') || text.Contains(Path.DirectorySeparatorChar)
        || Path.GetExtension(text).ToLowerInvariant() is ".jsonl" or ".ndjson" or ".json" or ".csv" or ".tsv" or ".tab" or ".conll" or ".iob" or ".bio" or ".txt";

    /// <summary>
    /// What a file holds: CoNLL extensions are token classification, .txt is text; otherwise the first record decides:
    /// a token list column means token classification, a label column classification, anything else language modelling.
    /// </summary>
    static DatasetKind InferKind(string path, DataReadOptions read)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        var format = read.Format ?? extension switch
        {
            ".conll" or ".iob" or ".bio" => DataFileFormat.Conll,
            ".txt" => DataFileFormat.Text,
            ".csv" => DataFileFormat.Csv,
            ".tsv" or ".tab" => DataFileFormat.Tsv,
            _ => DataFileFormat.Jsonl,
        };
        if (format == DataFileFormat.Conll) return DatasetKind.TokenClassification;
        if (format == DataFileFormat.Text) return DatasetKind.LanguageModeling;
        var first = DataRowReader.Read(path, format, read.HasHeader).FirstOrDefault()
            ?? throw new DataFormatException(path, null, null, "the file holds no examples");
        if (first.Has(read.Columns.Tokens) && first.Has(read.Columns.TokenLabels)) return DatasetKind.TokenClassification;
        if (first.Has(read.Columns.Label)) return DatasetKind.TextClassification;
        return DatasetKind.LanguageModeling;
    }
}
