using PeftSharp.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>HF BertOnlyMLMHead, the "cls" of BertForMaskedLM: predictions.</summary>
public sealed class BertOnlyMlmHead : nn.Module<Tensor, Tensor>
{
    BertLmPredictionHead predictions;

    public BertOnlyMlmHead(BertConfig config, LayerFactory layers, nn.Module<Tensor, Tensor> wordEmbeddings) : base(nameof(BertOnlyMlmHead))
    {
        predictions = new BertLmPredictionHead(config, layers, wordEmbeddings);
        RegisterComponents();
    }

    /// <summary>hidden [B, T, H] -> logits [B, T, vocab].</summary>
    public override Tensor forward(Tensor hidden) => predictions.call(hidden);
}
