using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Heads;

/// <summary>
/// Decoder sequence classification (HF XForSequenceClassification for Llama and GPT-2): score [labels, hidden],
/// no bias, applied to the hidden state of each row's last real token (found from the padding mask, so left and
/// right padding both work).
/// </summary>
public sealed class LastTokenClassifier : HeadModel
{
    nn.Module<Tensor, Tensor> score;

    public LastTokenClassifier(string architecture, TransformerModel backbone, LayerFactory factory)
        : base(architecture, backbone, ModelTask.SequenceClassification)
    {
        score = factory.Linear(backbone.Config.HiddenSize, backbone.Config.NumLabels, bias: false);
        register_module("score", score);
    }

    public override IReadOnlyList<string> HeadModules => new[] { "score" };

    public override ModelOutputs forward(ModelInputs inputs)
    {
        using var scope = NewDisposeScope();
        var hidden = Backbone.call(inputs).LastHiddenState;                                 // [B, T, H]
        var (batch, length) = inputs.Shape();
        var mask = inputs.AttentionMask ?? ones(batch, length, ScalarType.Int64, hidden.device);
        var pooled = ForwardPreparation.LastRealToken(hidden, mask);                        // [B, H]
        return new ModelOutputs { LastHiddenState = hidden.MoveToOuterDisposeScope(), Logits = score.call(pooled).MoveToOuterDisposeScope() };
    }
}
