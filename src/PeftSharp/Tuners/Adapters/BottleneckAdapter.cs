using PeftSharp.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// One bottleneck adapter at one site (Houlsby et al. 2019): d = dropout(s up(f(down(z)))), down [hidden -> bottleneck],
/// f a non-linearity, up [bottleneck -> hidden], s a fixed or learned scale; z is the sublayer's output for sequential
/// placements and its input for the parallel one, and the site adds d to the output. Parameters are named as
/// AdapterHub's: adapter_down.weight/bias, adapter_up.weight/bias, scaling (when learned). Float32 whatever the base
/// dtype: inputs are cast to it and d back to the input's dtype by the caller.
/// </summary>
public sealed class BottleneckAdapter : nn.Module<Tensor, Tensor>
{
    readonly Linear adapter_down, adapter_up;
    readonly Parameter? scaling;
    readonly Func<Tensor, Tensor> _activation;
    readonly double _scale, _dropout;

    /// <summary>An adapter for hidden size <paramref name="hidden"/> with the settings of <paramref name="config"/>.</summary>
    public BottleneckAdapter(long hidden, BottleneckConfig config) : base(nameof(BottleneckAdapter))
    {
        int bottleneck = config.BottleneckSize(hidden);
        adapter_down = nn.Linear(hidden, bottleneck);
        adapter_up = nn.Linear(bottleneck, hidden);
        _activation = Activations.Get(config.EffectiveNonLinearity);
        _scale = config.EffectiveScaling;
        _dropout = config.Dropout;
        IsParallel = config.Placement == BottleneckPlacement.Parallel;
        using (no_grad())
        {
            if (config.InitWeights == "bert")
            {
                adapter_down.weight!.normal_(0, 0.02);
                adapter_up.weight!.normal_(0, 0.02);
            }
            else
            {
                // nn.Linear already draws Kaiming-uniform (a = sqrt 5) weights; a zero up-projection makes d = 0.
                adapter_up.weight!.zero_();
            }
            adapter_down.bias!.zero_();
            adapter_up.bias!.zero_();
        }
        register_module("adapter_down", adapter_down);
        register_module("adapter_up", adapter_up);
        if (config.LearnedScaling)
        {
            scaling = new Parameter(ones(1));
            register_parameter("scaling", scaling);
        }
    }

    /// <summary>Children are registered explicitly under AdapterHub's names; no field reflection.</summary>
    protected override void RegisterComponents() { }

    /// <summary>True when the adapter reads the sublayer's input (parallel placement) rather than its output.</summary>
    public bool IsParallel { get; }

    /// <summary>Width of the bottleneck.</summary>
    public long BottleneckSize => adapter_down.weight!.shape[0];

    /// <summary>z [B, T, hidden] (any float dtype) -> d [B, T, hidden] in float32.</summary>
    public override Tensor forward(Tensor z)
    {
        using var scope = NewDisposeScope();
        var up = adapter_up.call(_activation(adapter_down.call(z.to(ScalarType.Float32))));
        var scaled = scaling is null ? up * _scale : up * scaling;
        var d = training && _dropout > 0 ? nn.functional.dropout(scaled, _dropout, training: true) : scaled;
        return d.MoveToOuterDisposeScope();
    }
}
