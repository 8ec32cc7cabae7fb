using TorchSharp.Modules;
using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Heads;

/// <summary>
/// A decoder with a vocabulary projection (HF XForCausalLM / GPT2LMHeadModel): logits = lm_head(site(hidden)),
/// lm_head [vocab, hidden] without bias, sharing the token embedding matrix when the config ties them.
/// </summary>
public sealed class CausalLanguageModel : HeadModel
{
    nn.Module<Tensor, Tensor> lm_head;
    AdapterSite head_adapters;
    readonly bool _tied;

    public CausalLanguageModel(string architecture, TransformerModel backbone, LayerFactory factory, bool tieWeights)
        : base(architecture, backbone, ModelTask.CausalLM)
    {
        _tied = tieWeights;
        var head = factory.Linear(backbone.Config.HiddenSize, backbone.Config.VocabSize, bias: false);
        // Tied: the head's weight is the embedding's Parameter object itself, as in Hugging Face.
        if (tieWeights) head.weight = ((Embedding)backbone.InputEmbeddings).weight!;
        lm_head = head;
        head_adapters = new AdapterSite(SiteKind.HeadInput);
        register_module("lm_head", lm_head);
        register_module("head_adapters", head_adapters);
    }

    public override IReadOnlyDictionary<string, string> TiedParameters =>
        _tied ? new Dictionary<string, string> { ["lm_head.weight"] = EmbeddingKey } : new Dictionary<string, string>();

    public override IReadOnlyList<string> HeadModules => new[] { "lm_head" };

    public override ModelOutputs forward(ModelInputs inputs)
    {
        using var scope = NewDisposeScope();
        var hidden = Backbone.call(inputs).LastHiddenState;                 // [B, T, H]
        var logits = lm_head.call(head_adapters.call(hidden, hidden));      // [B, T, V]
        return new ModelOutputs { LastHiddenState = hidden.MoveToOuterDisposeScope(), Logits = logits.MoveToOuterDisposeScope() };
    }
}
