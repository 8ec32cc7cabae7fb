using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// The inverse of the invertible adapters, at a language model's <see cref="SiteKind.HeadInput"/> site: the final
/// hidden states go through the inverse of the coupling block the embeddings went through, so the output projection
/// (tied to the embeddings or not) sees representations in the space it was trained in (MAD-X). It holds no
/// parameters of its own: it refers to the <see cref="InvertibleAdapterLayer"/> at the embeddings.
/// </summary>
public sealed class InverseAdapterHandler : nn.Module<Tensor, Tensor, Tensor>
{
    internal InverseAdapterHandler(InvertibleAdapterLayer owner) : base(nameof(InverseAdapterHandler)) => Owner = owner;

    /// <summary>Nothing is registered: the owner's parameters live (and are saved) at the embeddings site only.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The invertible adapters this handler inverts.</summary>
    public InvertibleAdapterLayer Owner { get; }

    /// <summary>Final hidden states [B, T, H] -> inverse-transformed [B, T, H].</summary>
    public override Tensor forward(Tensor output, Tensor input) => Owner.Inverse(output);
}
