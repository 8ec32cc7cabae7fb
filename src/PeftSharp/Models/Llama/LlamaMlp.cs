using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.Llama;

/// <summary>Gated feed-forward (HF LlamaMLP): down_proj(act(gate_proj(x)) * up_proj(x)).</summary>
public sealed class LlamaMlp : nn.Module<Tensor, Tensor>
{
    nn.Module<Tensor, Tensor> gate_proj, up_proj, down_proj;
    readonly Func<Tensor, Tensor> _activation;

    public LlamaMlp(LlamaConfig config, LayerFactory layers) : base(nameof(LlamaMlp))
    {
        gate_proj = layers.Linear(config.HiddenSize, config.IntermediateSize, config.MlpBias);
        up_proj = layers.Linear(config.HiddenSize, config.IntermediateSize, config.MlpBias);
        down_proj = layers.Linear(config.IntermediateSize, config.HiddenSize, config.MlpBias);
        _activation = Activations.Get(config.HiddenAct);
        RegisterComponents();
    }

    /// <summary>x [B, T, H] -> [B, T, H].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return down_proj.call(_activation(gate_proj.call(x)) * up_proj.call(x)).MoveToOuterDisposeScope();
    }
}
