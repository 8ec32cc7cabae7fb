using PeftSharp.Models.Heads;
using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.DistilBert;

/// <summary>
/// HF DistilBertForSequenceClassification: logits [B, labels] = classifier(dropout(relu(pre_classifier(hidden of [CLS])))),
/// dropout "seq_classif_dropout".
/// </summary>
public sealed class DistilBertForSequenceClassification : HeadModel
{
    nn.Module<Tensor, Tensor> pre_classifier, classifier, dropout;

    public DistilBertForSequenceClassification(DistilBertModel backbone, DistilBertConfig config, LayerFactory factory)
        : base("DistilBertForSequenceClassification", backbone, ModelTask.SequenceClassification)
    {
        pre_classifier = factory.Linear(config.HiddenSize, config.HiddenSize);
        classifier = factory.Linear(config.HiddenSize, config.NumLabels);
        dropout = nn.Dropout(config.SequenceClassifierDropout);
        register_module("pre_classifier", pre_classifier);
        register_module("classifier", classifier);
        register_module("dropout", dropout);
    }

    public override IReadOnlyList<string> HeadModules => new[] { "pre_classifier", "classifier" };

    public override ModelOutputs forward(ModelInputs inputs)
    {
        using var scope = NewDisposeScope();
        var hidden = Backbone.call(inputs).LastHiddenState;                                       // [B, T, H]
        var pooled = dropout.call(nn.functional.relu(pre_classifier.call(hidden.select(1, 0))));  // [B, H]
        var logits = classifier.call(pooled);                                                     // [B, labels]
        return new ModelOutputs { LastHiddenState = hidden.MoveToOuterDisposeScope(), Logits = logits.MoveToOuterDisposeScope() };
    }
}
