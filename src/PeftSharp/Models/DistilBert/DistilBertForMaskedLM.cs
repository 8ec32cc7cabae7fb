using TorchSharp.Modules;
using PeftSharp.Models.Heads;
using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.DistilBert;

/// <summary>
/// HF DistilBertForMaskedLM: logits [B, T, vocab] = vocab_projector(vocab_layer_norm(act(vocab_transform(site(hidden))))).
/// vocab_projector.weight is the word embedding matrix (when tied); its bias is its own.
/// </summary>
public sealed class DistilBertForMaskedLM : HeadModel
{
    nn.Module<Tensor, Tensor> vocab_transform, vocab_layer_norm, vocab_projector;
    AdapterSite head_adapters;
    readonly Func<Tensor, Tensor> _activation;
    readonly bool _tied;

    public DistilBertForMaskedLM(DistilBertModel backbone, DistilBertConfig config, LayerFactory factory)
        : base("DistilBertForMaskedLM", backbone, ModelTask.MaskedLM)
    {
        _tied = config.TieWordEmbeddings;
        _activation = Activations.Get(config.Activation);
        vocab_transform = factory.Linear(config.HiddenSize, config.HiddenSize);
        vocab_layer_norm = factory.LayerNorm(config.HiddenSize, DistilBertConfig.LayerNormEps);
        var projector = factory.Linear(config.HiddenSize, config.VocabSize);
        if (_tied) projector.weight = ((Embedding)backbone.InputEmbeddings).weight!;
        vocab_projector = projector;
        head_adapters = new AdapterSite(SiteKind.HeadInput);
        register_module("vocab_transform", vocab_transform);
        register_module("vocab_layer_norm", vocab_layer_norm);
        register_module("vocab_projector", vocab_projector);
        register_module("head_adapters", head_adapters);
    }

    public override IReadOnlyDictionary<string, string> TiedParameters =>
        _tied ? new Dictionary<string, string> { ["vocab_projector.weight"] = EmbeddingKey } : new Dictionary<string, string>();

    public override IReadOnlyList<string> HeadModules => new[] { "vocab_transform", "vocab_layer_norm", "vocab_projector" };

    public override ModelOutputs forward(ModelInputs inputs)
    {
        using var scope = NewDisposeScope();
        var hidden = Backbone.call(inputs).LastHiddenState;                                       // [B, T, H]
        var transformed = vocab_layer_norm.call(_activation(vocab_transform.call(head_adapters.call(hidden, hidden))));
        var logits = vocab_projector.call(transformed);                                           // [B, T, V]
        return new ModelOutputs { LastHiddenState = hidden.MoveToOuterDisposeScope(), Logits = logits.MoveToOuterDisposeScope() };
    }
}
