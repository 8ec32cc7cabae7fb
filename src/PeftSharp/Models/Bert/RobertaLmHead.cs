using PeftSharp.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>
/// HF RobertaLMHead: decoder(layer_norm(gelu(dense(x)))), always the exact (erf) gelu. The decoder [vocab, H] shares
/// the word embeddings when tied, and its bias is this module's "bias" (checkpoints use "lm_head.bias").
/// </summary>
public sealed class RobertaLmHead : nn.Module<Tensor, Tensor>
{
    Parameter bias;
    nn.Module<Tensor, Tensor> dense, layer_norm, decoder;

    public RobertaLmHead(BertConfig config, LayerFactory layers, nn.Module<Tensor, Tensor> wordEmbeddings) : base(nameof(RobertaLmHead))
    {
        dense = layers.Linear(config.HiddenSize, config.HiddenSize);
        layer_norm = layers.LayerNorm(config.HiddenSize, config.LayerNormEps);
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
        return decoder.call(layer_norm.call(nn.functional.gelu(dense.call(hidden)))).MoveToOuterDisposeScope();
    }
}
