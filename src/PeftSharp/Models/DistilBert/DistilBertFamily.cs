using System.Text.RegularExpressions;
using PeftSharp.Models.Heads;
using PeftSharp.Modules;

namespace PeftSharp.Models.DistilBert;

/// <summary>
/// DistilBERT: DistilBertModel, DistilBertForMaskedLM (tied vocab_projector), DistilBertForSequenceClassification
/// and DistilBertForTokenClassification.
/// </summary>
public sealed partial class DistilBertFamily : ModelFamily
{
    public override string Name => "distilbert";
    public override IReadOnlyList<string> ModelTypes { get; } = new[] { "distilbert" };
    public override IReadOnlyList<ModelTask> Tasks { get; } =
        new[] { ModelTask.Base, ModelTask.MaskedLM, ModelTask.SequenceClassification, ModelTask.TokenClassification };

    public override ModelConfig ParseConfig(ConfigReader reader) => new DistilBertConfig(reader);

    public override TransformerModel Create(ModelConfig config, ModelTask task, LayerFactory factory)
    {
        var distil = (DistilBertConfig)config;
        var backbone = new DistilBertModel(distil, factory);
        return task switch
        {
            ModelTask.Base => backbone,
            ModelTask.MaskedLM => new DistilBertForMaskedLM(backbone, distil, factory),
            ModelTask.SequenceClassification => new DistilBertForSequenceClassification(backbone, distil, factory),
            ModelTask.TokenClassification => new TokenClassifier(ArchitectureName(config.ModelType, task), backbone, factory, distil.Dropout),
            _ => throw new ArgumentException($"{Name} models have no {task} head (available: {string.Join(", ", Tasks)})", nameof(task)),
        };
    }

    public override string ArchitectureName(string modelType, ModelTask task) =>
        task == ModelTask.Base ? "DistilBertModel" : $"DistilBertFor{task}";

    /// <summary>The position-id buffer older checkpoints saved ("embeddings.position_ids").</summary>
    public override bool IsIgnorableCheckpointKey(string key) => PositionBuffer().IsMatch(key) || base.IsIgnorableCheckpointKey(key);

    [GeneratedRegex(@"(^|\.)embeddings\.position_ids$")]
    private static partial Regex PositionBuffer();
}
