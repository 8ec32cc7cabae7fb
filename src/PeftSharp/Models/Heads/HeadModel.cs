using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Heads;

/// <summary>
/// A task model: a bare transformer registered under its Hugging Face prefix ("model", "transformer", "bert", ...)
/// plus head modules. Subclasses register their head modules and implement the head's forward.
/// </summary>
public abstract class HeadModel : TransformerModel
{
    protected HeadModel(string architecture, TransformerModel backbone, ModelTask task) : base(architecture, backbone.Config, task)
    {
        if (backbone.BaseModelPrefix != null) throw new ArgumentException("the backbone must be a bare transformer", nameof(backbone));
        Architecture = architecture;
        Backbone = backbone;
        register_module(backbone.FamilyPrefix, backbone);
    }

    /// <summary>Children are registered explicitly under Hugging Face's names; no field reflection.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The bare transformer.</summary>
    public TransformerModel Backbone { get; }

    public override string Architecture { get; }
    public override string? BaseModelPrefix => Backbone.FamilyPrefix;
    public override string FamilyPrefix => Backbone.FamilyPrefix;
    public override bool IsCausal => Backbone.IsCausal;
    public override nn.Module<Tensor, Tensor> InputEmbeddings => Backbone.InputEmbeddings;
    public override (int KvHeads, int HeadDim) KeyValueShape => Backbone.KeyValueShape;

    public override IReadOnlyList<string> NonPersistentKeys =>
        Backbone.NonPersistentKeys.Select(k => $"{Backbone.FamilyPrefix}.{k}").ToList();

    /// <summary>Key of the token embedding weight in this model's state dict.</summary>
    protected string EmbeddingKey => $"{Backbone.FamilyPrefix}.{EmbeddingPath(Backbone)}.weight";

    static string EmbeddingPath(TransformerModel backbone) =>
        backbone.named_modules().First(m => ReferenceEquals(m.module, backbone.InputEmbeddings)).name;
}
