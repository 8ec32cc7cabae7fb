using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Gpt2;

/// <summary>GPT-2 feed-forward (HF GPT2MLP): dropout(c_proj(act(c_fc(x)))), c_fc [H, inner] and c_proj [inner, H] Conv1Ds.</summary>
public sealed class Gpt2Mlp : nn.Module<Tensor, Tensor>
{
    nn.Module<Tensor, Tensor> c_fc, c_proj, dropout;
    readonly Func<Tensor, Tensor> _activation;

    public Gpt2Mlp(Gpt2Config config, LayerFactory layers) : base(nameof(Gpt2Mlp))
    {
        c_fc = layers.Conv1D(config.HiddenSize, config.InnerSize);
        c_proj = Gpt2Block.ResidualProjection(config, config.InnerSize, layers);
        dropout = nn.Dropout(config.ResidualDropout);
        _activation = Activations.Get(config.Activation);
        RegisterComponents();
    }

    /// <summary>x [B, T, H] -> [B, T, H].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return dropout.call(c_proj.call(_activation(c_fc.call(x)))).MoveToOuterDisposeScope();
    }
}
