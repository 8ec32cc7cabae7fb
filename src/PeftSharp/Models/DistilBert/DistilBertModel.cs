using PeftSharp.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.DistilBert;

/// <summary>
/// The bare DistilBERT encoder (HF DistilBertModel): embeddings, transformer.layer.N; no pooler, no token types.
/// Position ids count real tokens (equal to Hugging Face's for right padding), after any cached or prefix positions.
/// </summary>
public sealed class DistilBertModel : TransformerModel
{
    DistilBertEmbeddings embeddings;
    DistilBertTransformer transformer;
    AdapterSite embedding_adapters;
    readonly DistilBertConfig _config;
    readonly ScalarType _dtype;
    readonly Device _device;

    public DistilBertModel(DistilBertConfig config, LayerFactory factory) : base(nameof(DistilBertModel), config, ModelTask.Base)
    {
        _config = config;
        (_dtype, _device) = (factory.DType, factory.Device);
        embeddings = new DistilBertEmbeddings(config, factory);
        transformer = new DistilBertTransformer(config, factory);
        embedding_adapters = new AdapterSite(SiteKind.Embeddings);
        RegisterComponents();
    }

    public override string Architecture => "DistilBertModel";
    public override string? BaseModelPrefix => null;
    public override string FamilyPrefix => "distilbert";
    public override bool IsCausal => false;
    public override nn.Module<Tensor, Tensor> InputEmbeddings => embeddings.WordEmbeddings;
    public override (int KvHeads, int HeadDim) KeyValueShape => (_config.NumHeads, _config.HeadDim);

    public override ModelOutputs forward(ModelInputs inputs)
    {
        using var scope = NewDisposeScope();
        var dtype = inputs.InputsEmbeds?.dtype ?? _dtype;
        var (_, context) = ForwardPreparation.Prepare(inputs, causal: false, dtype, _device);
        context = context with { CheckpointBlocks = GradientCheckpointing };
        ForwardPreparation.CheckPositions(context.PositionIds, _config.MaxPositions);
        var embedded = embeddings.call(inputs, context.PositionIds);                       // [B, T, H]
        var hidden = transformer.call(embedding_adapters.call(embedded, embedded), context);
        return new ModelOutputs { LastHiddenState = hidden.MoveToOuterDisposeScope() };
    }
}
