using static TorchSharp.torch;

namespace PeftSharp.Tuners.Common;

/// <summary>A module holding one parameter "weight" (PEFT's per-adapter vectors: IA3's l, DoRA's magnitude).</summary>
public sealed class ParameterHolder : nn.Module
{
    public ParameterHolder(TorchSharp.Modules.Parameter weight) : base("ParameterHolder")
    {
        this.weight = weight;
        register_parameter("weight", weight);
    }

    /// <summary>Children are registered explicitly under Hugging Face's names; no field reflection.</summary>
    protected override void RegisterComponents() { }

    public TorchSharp.Modules.Parameter weight { get; }
}
