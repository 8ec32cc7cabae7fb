using PeftSharp.Tuners.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.IA3;

/// <summary>
/// (IA)^3 on a linear layer: a feed-forward layer scales its input, y = W (l * x) + b with l [1, in]; other layers scale
/// their output, y = l * (W x + b) with l [out, 1]. Several active adapters multiply. Saved key "ia3_l" (PEFT's).
/// </summary>
public sealed class IA3Layer : AdapterLayer
{
    readonly AdapterModules<ParameterHolder> ia3_l = new();

    public IA3Layer(nn.Module<Tensor, Tensor> baseLayer, bool isFeedforward) : base(nameof(IA3Layer), baseLayer)
    {
        if (!LinearWeights.IsLinear(baseLayer)) throw new ArgumentException($"(IA)^3 wraps linear layers, not {baseLayer.GetType().Name}", nameof(baseLayer));
        IsFeedforward = isFeedforward;
        (InFeatures, OutFeatures) = LinearWeights.Features(baseLayer);
        register_module("ia3_l", ia3_l);
    }

    /// <summary>True: the vector scales the layer's input; false: its output.</summary>
    public bool IsFeedforward { get; }

    public long InFeatures { get; }
    public long OutFeatures { get; }

    public void AddAdapter(string name, bool initToOne, Generator? generator = null)
    {
        var shape = IsFeedforward ? new[] { 1L, InFeatures } : new[] { OutFeatures, 1L };
        var vector = initToOne ? ones(shape) : randn(shape, generator: generator);
        ia3_l.Add(name, new ParameterHolder(new Parameter(vector)));
        Track(name);
    }

    /// <summary>Product of the adapters' vectors, flattened to [in] or [out].</summary>
    Tensor Scale(IReadOnlyList<string> adapters)
    {
        var scale = ia3_l[adapters[0]].weight.flatten();
        for (int i = 1; i < adapters.Count; i++) scale = scale * ia3_l[adapters[i]].weight.flatten();
        return scale;
    }

    protected override Tensor ForwardWith(Tensor input, IReadOnlyList<string> adapters)
    {
        using var scope = NewDisposeScope();
        var scale = Scale(adapters);
        var result = IsFeedforward
            ? base_layer.call((input.to(scale.dtype) * scale).to(input.dtype))
            : (base_layer.call(input).to(scale.dtype) * scale).to(input.dtype);
        return result.MoveToOuterDisposeScope();
    }

    protected override void MergeAdapter(string name, bool safe) => Rescale(name, merge: true, safe);

    protected override void UnmergeAdapter(string name) => Rescale(name, merge: false, safe: false);

    /// <summary>Multiplies (merge) or divides (unmerge) weight columns (feed-forward) or rows and bias by l.</summary>
    void Rescale(string name, bool merge, bool safe)
    {
        using var scope = NewDisposeScope();
        var l = ia3_l[name].weight.detach().to(ScalarType.Float32).flatten();
        if (!merge) l = 1.0 / (l + 1e-8);
        var weight = LinearWeights.WeightOutIn(base_layer);
        var scaled = weight.to(ScalarType.Float32) * (IsFeedforward ? l.unsqueeze(0) : l.unsqueeze(1));
        if (safe) EnsureFinite(scaled, name);
        LinearWeights.SetWeightOutIn(base_layer, scaled.to(weight.dtype));
        if (!IsFeedforward && LinearWeights.Bias(base_layer) is { } bias)
            bias.copy_((bias.to(ScalarType.Float32) * l).to(bias.dtype));
    }

    protected override void RemoveAdapterState(string name) => ia3_l.Remove(name);

    public override IEnumerable<Parameter> AdapterParameters(string name)
    {
        yield return ia3_l[name].weight;
    }

    public override IEnumerable<(string Key, Tensor Value)> AdapterState(string name)
    {
        yield return ("ia3_l", ia3_l[name].weight);
    }

    public override void LoadAdapterState(string name, IReadOnlyDictionary<string, Tensor> tensors)
    {
        CheckKeys(tensors, new[] { "ia3_l" });
        CopyChecked(ia3_l[name].weight, tensors["ia3_l"], "ia3_l");
    }
}
