using PeftSharp.Modules;
using PeftSharp.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Gpt2;

/// <summary>
/// The bare GPT-2 decoder (HF GPT2Model): wte, wpe, drop, h.N, ln_f. Token-type ids, when given, are embedded
/// with wte and added, as Hugging Face does.
/// </summary>
public sealed class Gpt2Model : TransformerModel
{
    nn.Module<Tensor, Tensor> wte;
    nn.Module<Tensor, Tensor> wpe, drop, ln_f;
    ModuleList<Gpt2Block> h;
    AdapterSite embedding_adapters;
    readonly Gpt2Config _config;

    public Gpt2Model(Gpt2Config config, LayerFactory factory) : base(nameof(Gpt2Model), config, ModelTask.Base)
    {
        _config = config;
        wte = factory.Embedding(config.VocabSize, config.HiddenSize);
        wpe = factory.Embedding(config.MaxPositions, config.HiddenSize);
        drop = nn.Dropout(config.EmbeddingDropout);
        h = new ModuleList<Gpt2Block>(Enumerable.Range(0, config.NumLayers).Select(i => new Gpt2Block(config, i, factory)).ToArray());
        ln_f = factory.LayerNorm(config.HiddenSize, config.LayerNormEps);
        embedding_adapters = new AdapterSite(SiteKind.Embeddings);
        RegisterComponents();
    }

    public override string Architecture => "GPT2Model";
    public override string? BaseModelPrefix => null;
    public override string FamilyPrefix => "transformer";
    public override bool IsCausal => true;
    public override nn.Module<Tensor, Tensor> InputEmbeddings => wte;
    public override (int KvHeads, int HeadDim) KeyValueShape => (_config.NumHeads, _config.HeadDim);

    public override ModelOutputs forward(ModelInputs inputs)
    {
        using var scope = NewDisposeScope();
        var embeds = inputs.InputsEmbeds ?? wte.call(inputs.InputIds!);                       // [B, T, H]
        var (_, context) = ForwardPreparation.Prepare(inputs, causal: true, embeds.dtype, embeds.device);
        context = context with { CheckpointBlocks = GradientCheckpointing };
        ForwardPreparation.CheckPositions(context.PositionIds, _config.MaxPositions);
        embeds = embeds + wpe.call(context.PositionIds);
        if (inputs.TokenTypeIds is { } types) embeds = embeds + wte.call(types);
        embeds = drop.call(embeds);
        var hidden = embedding_adapters.call(embeds, embeds);
        foreach (var block in h) hidden = ActivationCheckpoint.Call(block, hidden, context);
        hidden = ln_f.call(hidden);
        return new ModelOutputs { LastHiddenState = hidden.MoveToOuterDisposeScope() };
    }
}
