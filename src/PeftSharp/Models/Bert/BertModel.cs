using PeftSharp.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>
/// The bare BERT or RoBERTa encoder (HF BertModel / RobertaModel): embeddings, encoder.layer.N and, unless a head
/// does without it, pooler. Position ids count real tokens (equal to Hugging Face's for right padding), after any
/// cached or prefix positions; RoBERTa's start at padding_idx + 1 and padding takes padding_idx.
/// </summary>
public sealed class BertModel : TransformerModel
{
    BertEmbeddings embeddings;
    BertEncoder encoder;
    BertPooler? pooler;
    AdapterSite embedding_adapters;
    readonly BertConfig _config;
    readonly ScalarType _dtype;
    readonly Device _device;

    /// <summary>A BERT or RoBERTa encoder; <paramref name="addPoolingLayer"/> builds the pooler (Hugging Face's add_pooling_layer).</summary>
    public BertModel(BertConfig config, LayerFactory factory, bool addPoolingLayer = true) : base(nameof(BertModel), config, ModelTask.Base)
    {
        _config = config;
        (_dtype, _device) = (factory.DType, factory.Device);
        embeddings = new BertEmbeddings(config, factory);
        encoder = new BertEncoder(config, factory);
        pooler = addPoolingLayer ? new BertPooler(config, factory) : null;
        embedding_adapters = new AdapterSite(SiteKind.Embeddings);
        RegisterComponents();
    }

    public override string Architecture => _config.IsRoberta ? "RobertaModel" : "BertModel";
    public override string? BaseModelPrefix => null;
    public override string FamilyPrefix => _config.IsRoberta ? "roberta" : "bert";
    public override bool IsCausal => false;
    public override nn.Module<Tensor, Tensor> InputEmbeddings => embeddings.WordEmbeddings;
    public override (int KvHeads, int HeadDim) KeyValueShape => (_config.NumHeads, _config.HeadDim);

    /// <summary>Whether the pooler exists (then <see cref="ModelOutputs.PooledOutput"/> is set).</summary>
    public bool HasPooler => pooler is not null;

    public override ModelOutputs forward(ModelInputs inputs)
    {
        using var scope = NewDisposeScope();
        var dtype = inputs.InputsEmbeds?.dtype ?? _dtype;
        var (paddingMask, context) = ForwardPreparation.Prepare(inputs, causal: false, dtype, _device);
        context = context with { CheckpointBlocks = GradientCheckpointing };
        var positions = _config.IsRoberta && inputs.PositionIds is null ? RobertaPositions(context.PositionIds, paddingMask) : context.PositionIds;
        ForwardPreparation.CheckPositions(positions, _config.MaxPositions);
        var embedded = embeddings.call(inputs, positions);                                  // [B, T, H]
        var hidden = encoder.call(embedding_adapters.call(embedded, embedded), context);
        var pooled = pooler?.call(hidden);                                                  // [B, H]
        return new ModelOutputs { LastHiddenState = hidden.MoveToOuterDisposeScope(), PooledOutput = pooled?.MoveToOuterDisposeScope() };
    }

    /// <summary>
    /// HF create_position_ids_from_input_ids: real tokens count from padding_idx + 1, padding gets padding_idx.
    /// positions [B, T] counted from 0 over real tokens; padding mask [B, S >= T].
    /// </summary>
    Tensor RobertaPositions(Tensor positions, Tensor paddingMask)
    {
        long length = positions.shape[1];
        var real = paddingMask.narrow(1, paddingMask.shape[1] - length, length).to(ScalarType.Bool);
        long pad = _config.PaddingIndex;
        return where(real, positions + (pad + 1), full_like(positions, pad));
    }
}
