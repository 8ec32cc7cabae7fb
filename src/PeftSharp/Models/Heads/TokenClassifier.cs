using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Heads;

/// <summary>
/// Token classification (HF XForTokenClassification for BERT, RoBERTa, DistilBERT and GPT-2):
/// logits [B, T, labels] = classifier(dropout(hidden)), classifier [labels, hidden] with bias.
/// </summary>
public sealed class TokenClassifier : HeadModel
{
    nn.Module<Tensor, Tensor> dropout, classifier;

    /// <summary>A token classifier on <paramref name="backbone"/>; <paramref name="dropoutRate"/> is the family's classifier dropout.</summary>
    public TokenClassifier(string architecture, TransformerModel backbone, LayerFactory factory, double dropoutRate)
        : base(architecture, backbone, ModelTask.TokenClassification)
    {
        dropout = nn.Dropout(dropoutRate);
        classifier = factory.Linear(backbone.Config.HiddenSize, backbone.Config.NumLabels);
        register_module("dropout", dropout);
        register_module("classifier", classifier);
    }

    public override IReadOnlyList<string> HeadModules => new[] { "classifier" };

    public override ModelOutputs forward(ModelInputs inputs)
    {
        using var scope = NewDisposeScope();
        var hidden = Backbone.call(inputs).LastHiddenState;                  // [B, T, H]
        var logits = classifier.call(dropout.call(hidden));                  // [B, T, labels]
        return new ModelOutputs { LastHiddenState = hidden.MoveToOuterDisposeScope(), Logits = logits.MoveToOuterDisposeScope() };
    }
}
