using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PeftSharp.Data.Catalog;

/// <summary>Writes a dataset's records into train/validation/test JSONL files, counting examples and labels per split.</summary>
sealed class SplitWriter : IDisposable
{
    static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    readonly Dictionary<string, StreamWriter> _writers = new();
    readonly Dictionary<string, int> _examples = new();
    readonly Dictionary<string, SortedDictionary<string, long>> _labels = new();

    public SplitWriter(string directory)
    {
        foreach (string split in CatalogSplits.All)
        {
            _writers[split] = new StreamWriter(Path.Combine(directory, FileName(split)), append: false, new UTF8Encoding(false)) { NewLine = "\n" };
            _examples[split] = 0;
            _labels[split] = new SortedDictionary<string, long>(StringComparer.Ordinal);
        }
    }

    public static string FileName(string split) => $"{split}.jsonl";

    /// <summary>Writes one record to <paramref name="split"/>, counting <paramref name="labels"/> (none for plain text).</summary>
    public void Write(string split, JsonObject record, params IEnumerable<string> labels)
    {
        _writers[split].WriteLine(record.ToJsonString(Options));
        _examples[split]++;
        var counts = _labels[split];
        foreach (string label in labels) counts[label] = counts.GetValueOrDefault(label) + 1;
    }

    public IReadOnlyDictionary<string, int> Examples => _examples;

    public IReadOnlyDictionary<string, SortedDictionary<string, long>> Labels => _labels;

    public void Dispose()
    {
        foreach (var writer in _writers.Values) writer.Dispose();
    }
}
