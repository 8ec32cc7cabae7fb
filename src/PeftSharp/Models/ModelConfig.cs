using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace PeftSharp.Models;

/// <summary>
/// The fields every family's config.json shares. Families read their own fields in their subclass; the original
/// JSON is kept so that saving a model writes back every field, known or not.
/// </summary>
public abstract class ModelConfig
{
    protected ModelConfig(ConfigReader reader)
    {
        Raw = (JsonObject)reader.Root.DeepClone();
        Source = reader.Source;
        ModelType = reader.String("model_type");
        Architectures = reader.StringListOrNull("architectures") ?? new List<string>();
        PadTokenId = reader.IntOrNull("pad_token_id");
        BosTokenId = reader.IntOrNull("bos_token_id");
        EosTokenIds = reader.IntList("eos_token_id");
        InitializerRange = reader.Double("initializer_range", 0.02);
        TorchDType = reader.StringOrNull("torch_dtype") ?? reader.StringOrNull("dtype");
        Labels = ReadLabels(reader);
    }

    /// <summary>The JSON this config was read from (a private copy).</summary>
    public JsonObject Raw { get; }

    /// <summary>Where the config came from, for error messages.</summary>
    public string Source { get; }

    public string ModelType { get; }
    public IReadOnlyList<string> Architectures { get; }
    public int? PadTokenId { get; }
    public int? BosTokenId { get; }
    public IReadOnlyList<int> EosTokenIds { get; }
    public double InitializerRange { get; }

    /// <summary>"float32", "bfloat16", "float16" or null: the dtype the checkpoint was saved in.</summary>
    public string? TorchDType { get; }

    /// <summary>Class labels in id order (from id2label, else num_labels generic names, else two).</summary>
    public IReadOnlyList<string> Labels { get; private set; }

    public int NumLabels => Labels.Count;

    public abstract int HiddenSize { get; }
    public abstract int NumLayers { get; }
    public abstract int NumHeads { get; }
    public abstract int VocabSize { get; }
    public abstract int MaxPositions { get; }

    /// <summary>Whether the output projection shares the input embedding matrix.</summary>
    public abstract bool TieWordEmbeddings { get; }

    /// <summary>Replaces the label set (for a new classification head).</summary>
    public void SetLabels(IReadOnlyList<string> labels)
    {
        if (labels.Count < 1) throw new ArgumentException("a classifier needs at least one label", nameof(labels));
        Labels = labels.ToList();
    }

    /// <summary>The config as Hugging Face would write it for a model with this head and dtype.</summary>
    public JsonObject ToJson(string architecture, ScalarType dtype)
    {
        var json = (JsonObject)Raw.DeepClone();
        json["architectures"] = new JsonArray(architecture);
        json["torch_dtype"] = DTypeNames.ToHuggingFace(dtype);
        var id2label = new JsonObject();
        var label2id = new JsonObject();
        for (int i = 0; i < Labels.Count; i++)
        {
            id2label[i.ToString()] = Labels[i];
            label2id[Labels[i]] = i;
        }
        json["id2label"] = id2label;
        json["label2id"] = label2id;
        return json;
    }

    /// <summary>Fails with a <see cref="ConfigException"/> naming <paramref name="field"/> unless <paramref name="condition"/> holds.</summary>
    protected void Require(bool condition, string field, string message)
    {
        if (!condition) throw new ConfigException(Source, field, message);
    }

    static IReadOnlyList<string> ReadLabels(ConfigReader reader)
    {
        if (reader.ObjectOrNull("id2label") is { } id2label && id2label.Root.Count > 0)
        {
            var pairs = id2label.Root.Select(p => int.TryParse(p.Key, out int id) && p.Value is not null
                    ? (Id: id, Label: p.Value.ToString())
                    : throw new ConfigException(reader.Source, "id2label", $"key '{p.Key}' must be an integer id with a string label"))
                .OrderBy(p => p.Id).ToList();
            if (pairs.Select((p, i) => p.Id != i).Any(b => b))
                throw new ConfigException(reader.Source, "id2label", "ids must run 0, 1, 2, ... without gaps");
            return pairs.Select(p => p.Label).ToList();
        }
        int count = reader.Int("num_labels", 2);
        return Enumerable.Range(0, count).Select(i => $"LABEL_{i}").ToList();
    }
}
