using PeftSharp.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>
/// HF BertEmbeddings / RobertaEmbeddings: dropout(LayerNorm(word + position + token_type)). Word embeddings are
/// skipped when the inputs carry embeddings; token types default to zeros.
/// </summary>
public sealed class BertEmbeddings : nn.Module<ModelInputs, Tensor, Tensor>
{
    nn.Module<Tensor, Tensor> word_embeddings;
    nn.Module<Tensor, Tensor> position_embeddings, token_type_embeddings, LayerNorm, dropout;

    public BertEmbeddings(BertConfig config, LayerFactory layers) : base(nameof(BertEmbeddings))
    {
        word_embeddings = layers.Embedding(config.VocabSize, config.HiddenSize, config.PaddingIndex);
        // RoBERTa's position table has the padding row too (padding positions are padding_idx).
        position_embeddings = layers.Embedding(config.MaxPositions, config.HiddenSize, config.IsRoberta ? config.PaddingIndex : null);
        token_type_embeddings = layers.Embedding(config.TypeVocabSize, config.HiddenSize);
        LayerNorm = layers.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropout);
        RegisterComponents();
    }

    public nn.Module<Tensor, Tensor> WordEmbeddings => word_embeddings;

    /// <summary>inputs (ids [B, T] or embeddings [B, T, H], optional token types [B, T]), position ids [B, T] -> [B, T, H].</summary>
    public override Tensor forward(ModelInputs inputs, Tensor positionIds)
    {
        using var scope = NewDisposeScope();
        var embeds = inputs.InputsEmbeds ?? word_embeddings.call(inputs.InputIds!);
        var types = inputs.TokenTypeIds ?? zeros(embeds.shape[0], embeds.shape[1], ScalarType.Int64, embeds.device);
        var sum = embeds + token_type_embeddings.call(types) + position_embeddings.call(positionIds);
        return dropout.call(LayerNorm.call(sum)).MoveToOuterDisposeScope();
    }
}
