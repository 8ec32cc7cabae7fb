using PeftSharp.Modules;
using PeftSharp.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Llama;

/// <summary>The bare Llama/Mistral/Qwen2 decoder (HF LlamaModel): embed_tokens, layers.N, norm.</summary>
public sealed class LlamaModel : TransformerModel
{
    nn.Module<Tensor, Tensor> embed_tokens;
    ModuleList<LlamaDecoderLayer> layers;
    nn.Module<Tensor, Tensor> norm;
    AdapterSite embedding_adapters;
    readonly RotaryEmbedding _rotary;
    readonly LlamaConfig _config;

    public LlamaModel(LlamaConfig config, LayerFactory factory) : base(nameof(LlamaModel), config, ModelTask.Base)
    {
        _config = config;
        embed_tokens = factory.Embedding(config.VocabSize, config.HiddenSize, config.PadTokenId);
        layers = new ModuleList<LlamaDecoderLayer>(Enumerable.Range(0, config.NumLayers).Select(i => new LlamaDecoderLayer(config, i, factory)).ToArray());
        norm = factory.RmsNorm(config.HiddenSize, config.RmsNormEps);
        embedding_adapters = new AdapterSite(SiteKind.Embeddings);
        _rotary = new RotaryEmbedding(config.HeadDim, config.RopeTheta, config.RopeScaling);
        RegisterComponents();
    }

    public override string Architecture => Config.ModelType switch { "mistral" => "MistralModel", "qwen2" => "Qwen2Model", _ => "LlamaModel" };
    public override string? BaseModelPrefix => null;
    public override string FamilyPrefix => "model";
    public override bool IsCausal => true;
    public override nn.Module<Tensor, Tensor> InputEmbeddings => embed_tokens;
    public override (int KvHeads, int HeadDim) KeyValueShape => (_config.NumKeyValueHeads, _config.HeadDim);

    public override ModelOutputs forward(ModelInputs inputs)
    {
        using var scope = NewDisposeScope();
        var embeds = inputs.InputsEmbeds ?? embed_tokens.call(inputs.InputIds!);       // [B, T, H]
        var (_, context) = ForwardPreparation.Prepare(inputs, causal: true, embeds.dtype, embeds.device, _config.SlidingWindow);
        var rotary = _rotary.Tables(context.PositionIds, embeds.dtype);
        context = context with { Rotary = rotary, CheckpointBlocks = GradientCheckpointing };
        var hidden = embedding_adapters.call(embeds, embeds);
        foreach (var layer in layers) hidden = ActivationCheckpoint.Call(layer, hidden, context);
        hidden = norm.call(hidden);
        return new ModelOutputs { LastHiddenState = hidden.MoveToOuterDisposeScope() };
    }
}
