using System.Text.RegularExpressions;
using PeftSharp.Models.Heads;
using PeftSharp.Modules;

namespace PeftSharp.Models.Bert;

/// <summary>
/// BERT (model_type "bert") or RoBERTa ("roberta"): one encoder implementation, two families that differ in their
/// position ids, their heads and their base-model prefix. Heads: XModel (with pooler), XForMaskedLM,
/// XForSequenceClassification and XForTokenClassification.
/// </summary>
public sealed partial class BertFamily : ModelFamily
{
    readonly bool _roberta;

    BertFamily(bool roberta)
    {
        _roberta = roberta;
        ModelTypes = new[] { Name };
    }

    /// <summary>model_type "bert".</summary>
    public static BertFamily Bert { get; } = new(roberta: false);

    /// <summary>model_type "roberta".</summary>
    public static BertFamily Roberta { get; } = new(roberta: true);

    public override string Name => _roberta ? "roberta" : "bert";
    public override IReadOnlyList<string> ModelTypes { get; }
    public override IReadOnlyList<ModelTask> Tasks { get; } =
        new[] { ModelTask.Base, ModelTask.MaskedLM, ModelTask.SequenceClassification, ModelTask.TokenClassification };

    public override ModelConfig ParseConfig(ConfigReader reader) => new BertConfig(reader);

    public override TransformerModel Create(ModelConfig config, ModelTask task, LayerFactory factory)
    {
        var bert = (BertConfig)config;
        if (bert.IsRoberta != _roberta) throw new ArgumentException($"a {config.ModelType} config given to the {Name} family", nameof(config));
        var backbone = new BertModel(bert, factory, HasPooler(task));
        return (task, _roberta) switch
        {
            (ModelTask.Base, _) => backbone,
            (ModelTask.MaskedLM, false) => new BertForMaskedLM(backbone, bert, factory),
            (ModelTask.MaskedLM, true) => new RobertaForMaskedLM(backbone, bert, factory),
            (ModelTask.SequenceClassification, false) => new BertForSequenceClassification(backbone, bert, factory),
            (ModelTask.SequenceClassification, true) => new RobertaForSequenceClassification(backbone, bert, factory),
            (ModelTask.TokenClassification, _) => new TokenClassifier(ArchitectureName(config.ModelType, task), backbone, factory, bert.ClassifierDropout),
            _ => throw new ArgumentException($"{Name} models have no {task} head (available: {string.Join(", ", Tasks)})", nameof(task)),
        };
    }

    public override string ArchitectureName(string modelType, ModelTask task)
    {
        string stem = _roberta ? "Roberta" : "Bert";
        return task == ModelTask.Base ? $"{stem}Model" : $"{stem}For{task}";
    }

    /// <summary>The position-id and token-type-id buffers older checkpoints saved ("embeddings.position_ids").</summary>
    public override bool IsIgnorableCheckpointKey(string key) => EmbeddingBuffer().IsMatch(key) || base.IsIgnorableCheckpointKey(key);

    /// <summary>A checkpoint's pooler is dropped by heads built without one.</summary>
    public override bool IsUnusedBackboneKey(string key, ModelTask task) => key.StartsWith("pooler.", StringComparison.Ordinal) && !HasPooler(task);

    /// <summary>As in Hugging Face: the bare model and BERT's sequence classifier pool; the other heads do not.</summary>
    bool HasPooler(ModelTask task) => task == ModelTask.Base || (task == ModelTask.SequenceClassification && !_roberta);

    [GeneratedRegex(@"(^|\.)embeddings\.(position_ids|token_type_ids)$")]
    private static partial Regex EmbeddingBuffer();
}
