using PeftSharp.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.DistilBert;

/// <summary>
/// HF DistilBERT Embeddings: dropout(LayerNorm(word + position)); no token types. With sinusoidal_pos_embds the
/// position table is the fixed sinusoid of Vaswani et al. and never trained.
/// </summary>
public sealed class DistilBertEmbeddings : nn.Module<ModelInputs, Tensor, Tensor>
{
    nn.Module<Tensor, Tensor> word_embeddings;
    nn.Module<Tensor, Tensor> position_embeddings, LayerNorm, dropout;

    public DistilBertEmbeddings(DistilBertConfig config, LayerFactory layers) : base(nameof(DistilBertEmbeddings))
    {
        word_embeddings = layers.Embedding(config.VocabSize, config.HiddenSize, config.PaddingIndex);
        var positions = layers.Embedding(config.MaxPositions, config.HiddenSize);
        if (config.SinusoidalPositions)
        {
            if (layers.Initialize)
                using (no_grad()) positions.weight!.copy_(Sinusoids(config.MaxPositions, config.HiddenSize));
            positions.weight!.requires_grad = false;
        }
        position_embeddings = positions;
        LayerNorm = layers.LayerNorm(config.HiddenSize, DistilBertConfig.LayerNormEps);
        dropout = nn.Dropout(config.Dropout);
        RegisterComponents();
    }

    public nn.Module<Tensor, Tensor> WordEmbeddings => word_embeddings;

    /// <summary>inputs (ids [B, T] or embeddings [B, T, H]), position ids [B, T] -> [B, T, H].</summary>
    public override Tensor forward(ModelInputs inputs, Tensor positionIds)
    {
        using var scope = NewDisposeScope();
        var embeds = inputs.InputsEmbeds ?? word_embeddings.call(inputs.InputIds!);
        return dropout.call(LayerNorm.call(embeds + position_embeddings.call(positionIds))).MoveToOuterDisposeScope();
    }

    /// <summary>[positions, dim]: sin(pos / 10000^(2i/dim)) in even columns 2i, cos of the same angle in odd columns 2i + 1.</summary>
    static Tensor Sinusoids(long positions, long dim)
    {
        using var scope = NewDisposeScope();
        var position = arange(positions, ScalarType.Float64).unsqueeze(1);                       // [P, 1]
        var pairIndex = arange(0, dim, 2, ScalarType.Float64);                                   // [dim / 2]: 2i
        var angles = position / pow(10000.0, pairIndex / dim);                                   // [P, dim / 2]
        var table = stack(new[] { angles.sin(), angles.cos() }, 2).reshape(positions, dim);      // interleave sin, cos
        return table.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}
