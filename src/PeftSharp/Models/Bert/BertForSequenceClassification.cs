using PeftSharp.Models.Heads;
using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>HF BertForSequenceClassification: logits [B, labels] = classifier(dropout(pooler output)).</summary>
public sealed class BertForSequenceClassification : HeadModel
{
    nn.Module<Tensor, Tensor> dropout, classifier;

    public BertForSequenceClassification(BertModel backbone, BertConfig config, LayerFactory factory)
        : base("BertForSequenceClassification", backbone, ModelTask.SequenceClassification)
    {
        if (!backbone.HasPooler) throw new ArgumentException("BertForSequenceClassification needs a backbone with a pooler", nameof(backbone));
        dropout = nn.Dropout(config.ClassifierDropout);
        classifier = factory.Linear(config.HiddenSize, config.NumLabels);
        register_module("dropout", dropout);
        register_module("classifier", classifier);
    }

    public override IReadOnlyList<string> HeadModules => new[] { "classifier" };

    public override ModelOutputs forward(ModelInputs inputs)
    {
        using var scope = NewDisposeScope();
        var outputs = Backbone.call(inputs);
        var logits = classifier.call(dropout.call(outputs.PooledOutput!));   // [B, labels]
        return new ModelOutputs
        {
            LastHiddenState = outputs.LastHiddenState.MoveToOuterDisposeScope(),
            PooledOutput = outputs.PooledOutput!.MoveToOuterDisposeScope(),
            Logits = logits.MoveToOuterDisposeScope(),
        };
    }
}
