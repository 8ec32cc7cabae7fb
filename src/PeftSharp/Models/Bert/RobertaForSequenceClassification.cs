using PeftSharp.Models.Heads;
using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>HF RobertaForSequenceClassification: a pooler-less RoBERTa; logits [B, labels] = classifier(hidden).</summary>
public sealed class RobertaForSequenceClassification : HeadModel
{
    RobertaClassificationHead classifier;

    public RobertaForSequenceClassification(BertModel backbone, BertConfig config, LayerFactory factory)
        : base("RobertaForSequenceClassification", backbone, ModelTask.SequenceClassification)
    {
        classifier = new RobertaClassificationHead(config, factory);
        register_module("classifier", classifier);
    }

    public override IReadOnlyList<string> HeadModules => new[] { "classifier" };

    public override ModelOutputs forward(ModelInputs inputs)
    {
        using var scope = NewDisposeScope();
        var hidden = Backbone.call(inputs).LastHiddenState;     // [B, T, H]
        var logits = classifier.call(hidden);                   // [B, labels]
        return new ModelOutputs { LastHiddenState = hidden.MoveToOuterDisposeScope(), Logits = logits.MoveToOuterDisposeScope() };
    }
}
