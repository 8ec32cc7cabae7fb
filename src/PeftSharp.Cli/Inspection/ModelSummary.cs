using System.Text.Json.Nodes;
using PeftSharp.Models;

namespace PeftSharp.Cli.Inspection;

/// <summary>What <c>peft inspect</c> reports about a model: class, config sizes, module tree and unique parameter count.</summary>
sealed record ModelSummary(
    ModelSource Source,
    string Architecture,
    string ModelType,
    string DType,
    IReadOnlyList<KeyValuePair<string, JsonNode?>> Sizes,
    ModuleNode Tree,
    IReadOnlyDictionary<string, string> Tied)
{
    /// <summary>Parameters with shared tensors counted once (transformers' num_parameters()).</summary>
    public long UniqueParameters => Tree.Parameters;

    /// <summary>Fields of config.json other than the common sizes that give a family's shape, shown when present.</summary>
    static readonly string[] ExtraSizeFields = { "intermediate_size", "n_inner", "hidden_dim", "num_key_value_heads", "head_dim", "sliding_window" };

    public static ModelSummary Of(ModelSource source, TransformerModel model)
    {
        var config = model.Config;
        var sizes = new List<KeyValuePair<string, JsonNode?>>
        {
            new("hidden_size", config.HiddenSize),
            new("num_hidden_layers", config.NumLayers),
            new("num_attention_heads", config.NumHeads),
        };
        foreach (string field in ExtraSizeFields)
            if (config.Raw[field] is JsonValue value) sizes.Add(new(field, value.DeepClone()));
        sizes.Add(new("vocab_size", config.VocabSize));
        sizes.Add(new("max_position_embeddings", config.MaxPositions));
        sizes.Add(new("tie_word_embeddings", config.TieWordEmbeddings));
        if (model.Task is ModelTask.SequenceClassification or ModelTask.TokenClassification) sizes.Add(new("num_labels", config.NumLabels));
        return new ModelSummary(source, model.Architecture, config.ModelType, DTypeNames.ToHuggingFace(model.DType), sizes,
            ModuleNode.Build(model), model.TiedParameters);
    }

    public JsonObject ToJson() => new()
    {
        ["path"] = Source.Path,
        ["format"] = Source.FormatKey,
        ["architecture"] = Architecture,
        ["model_type"] = ModelType,
        ["dtype"] = DType,
        ["config"] = new JsonObject(Sizes.Select(s => KeyValuePair.Create(s.Key, s.Value?.DeepClone()))),
        ["parameters"] = UniqueParameters,
        ["tied_parameters"] = new JsonObject(Tied.Select(t => KeyValuePair.Create(t.Key, (JsonNode?)t.Value))),
        ["modules"] = Tree.ToJson(),
    };
}
