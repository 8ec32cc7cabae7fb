using PeftSharp.Models.Bert;
using PeftSharp.Models.DistilBert;
using PeftSharp.Models.Gpt2;
using PeftSharp.Models.Llama;

namespace PeftSharp.Models;

/// <summary>Every model family PeftSharp can build, looked up by config.json "model_type".</summary>
public static class ModelFamilies
{
    static readonly List<ModelFamily> Registered = new()
    {
        new LlamaFamily(), new Gpt2Family(), BertFamily.Bert, BertFamily.Roberta, new DistilBertFamily(),
    };

    public static IReadOnlyList<ModelFamily> All => Registered;

    /// <summary>Every supported "model_type".</summary>
    public static IEnumerable<string> ModelTypes => Registered.SelectMany(f => f.ModelTypes);

    /// <summary>The family reading <paramref name="modelType"/>.</summary>
    /// <exception cref="ConfigException">Unknown model_type; the message lists the supported ones.</exception>
    public static ModelFamily ForModelType(string modelType, string source) =>
        Registered.FirstOrDefault(f => f.ModelTypes.Contains(modelType))
        ?? throw new ConfigException(source, "model_type", $"unsupported model_type '{modelType}' (supported: {string.Join(", ", ModelTypes)})");

    /// <summary>Adds a family (e.g. a user's own); its model types must not clash with existing ones.</summary>
    public static void Register(ModelFamily family)
    {
        var clash = family.ModelTypes.Intersect(ModelTypes).ToList();
        if (clash.Count > 0) throw new ArgumentException($"model types already registered: {string.Join(", ", clash)}", nameof(family));
        Registered.Add(family);
    }
}
