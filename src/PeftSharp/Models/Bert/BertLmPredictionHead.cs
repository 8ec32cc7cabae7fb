using PeftSharp.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>
/// HF BertLMPredictionHead: decoder(transform(x)). The decoder [vocab, H] shares the word embeddings when the config
/// ties them, and its bias is this module's "bias" (one tensor under two names; checkpoints use "bias").
/// </summary>
public sealed class BertLmPredictionHead : nn.Module<Tensor, Tensor>
{
    Parameter bias;
    BertPredictionHeadTransform transform;
    nn.Module<Tensor, Tensor> decoder;

    public BertLmPredictionHead(BertConfig config, LayerFactory layers, nn.Module<Tensor, Tensor> wordEmbeddings) : base(nameof(BertLmPredictionHead))
    {
        transform = new BertPredictionHeadTransform(config, layers);
        var projection = layers.Linear(config.HiddenSize, config.VocabSize);
        if (config.TieWordEmbeddings) projection.weight = ((Embedding)wordEmbeddings).weight!;
        bias = projection.bias!;
        decoder = projection;
        RegisterComponents();
    }

    /// <summary>hidden [B, T, H] -> logits [B, T, vocab].</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return decoder.call(transform.call(hidden)).MoveToOuterDisposeScope();
    }
}
