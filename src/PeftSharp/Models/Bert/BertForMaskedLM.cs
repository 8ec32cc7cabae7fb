using PeftSharp.Models.Heads;
using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Bert;

/// <summary>
/// HF BertForMaskedLM: a pooler-less BERT and cls.predictions; logits [B, T, vocab] = cls(site(hidden)).
/// cls.predictions.decoder.weight is the word embedding matrix (when tied) and cls.predictions.decoder.bias is
/// cls.predictions.bias, so neither is saved or expected in checkpoints.
/// </summary>
public sealed class BertForMaskedLM : HeadModel
{
    BertOnlyMlmHead cls;
    AdapterSite head_adapters;
    readonly bool _tied;

    public BertForMaskedLM(BertModel backbone, BertConfig config, LayerFactory factory)
        : base("BertForMaskedLM", backbone, ModelTask.MaskedLM)
    {
        _tied = config.TieWordEmbeddings;
        cls = new BertOnlyMlmHead(config, factory, backbone.InputEmbeddings);
        head_adapters = new AdapterSite(SiteKind.HeadInput);
        register_module("cls", cls);
        register_module("head_adapters", head_adapters);
    }

    public override IReadOnlyDictionary<string, string> TiedParameters
    {
        get
        {
            var tied = new Dictionary<string, string> { ["cls.predictions.decoder.bias"] = "cls.predictions.bias" };
            if (_tied) tied["cls.predictions.decoder.weight"] = EmbeddingKey;
            return tied;
        }
    }

    public override IReadOnlyList<string> HeadModules => new[] { "cls" };

    public override ModelOutputs forward(ModelInputs inputs)
    {
        using var scope = NewDisposeScope();
        var hidden = Backbone.call(inputs).LastHiddenState;                // [B, T, H]
        var logits = cls.call(head_adapters.call(hidden, hidden));         // [B, T, V]
        return new ModelOutputs { LastHiddenState = hidden.MoveToOuterDisposeScope(), Logits = logits.MoveToOuterDisposeScope() };
    }
}
