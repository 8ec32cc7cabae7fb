using PeftSharp.Models.Heads;
using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>
/// HF RobertaForMaskedLM: a pooler-less RoBERTa and lm_head; logits [B, T, vocab] = lm_head(site(hidden)).
/// lm_head.decoder.weight is the word embedding matrix (when tied) and lm_head.decoder.bias is lm_head.bias.
/// </summary>
public sealed class RobertaForMaskedLM : HeadModel
{
    RobertaLmHead lm_head;
    AdapterSite head_adapters;
    readonly bool _tied;

    public RobertaForMaskedLM(BertModel backbone, BertConfig config, LayerFactory factory)
        : base("RobertaForMaskedLM", backbone, ModelTask.MaskedLM)
    {
        _tied = config.TieWordEmbeddings;
        lm_head = new RobertaLmHead(config, factory, backbone.InputEmbeddings);
        head_adapters = new AdapterSite(SiteKind.HeadInput);
        register_module("lm_head", lm_head);
        register_module("head_adapters", head_adapters);
    }

    public override IReadOnlyDictionary<string, string> TiedParameters
    {
        get
        {
            var tied = new Dictionary<string, string> { ["lm_head.decoder.bias"] = "lm_head.bias" };
            if (_tied) tied["lm_head.decoder.weight"] = EmbeddingKey;
            return tied;
        }
    }

    public override IReadOnlyList<string> HeadModules => new[] { "lm_head" };

    public override ModelOutputs forward(ModelInputs inputs)
    {
        using var scope = NewDisposeScope();
        var hidden = Backbone.call(inputs).LastHiddenState;                    // [B, T, H]
        var logits = lm_head.call(head_adapters.call(hidden, hidden));         // [B, T, V]
        return new ModelOutputs { LastHiddenState = hidden.MoveToOuterDisposeScope(), Logits = logits.MoveToOuterDisposeScope() };
    }
}
