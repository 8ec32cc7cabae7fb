using PeftSharp.Tuners.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Lora;

/// <summary>Per-adapter settings of a <see cref="LoraLayer"/>.</summary>
public sealed record LoraAdapterSettings(int Rank, double Alpha, double Scaling, double Dropout, bool UseDora, bool TrainBias);

/// <summary>
/// LoRA on a linear layer (nn.Linear, GPT-2's Conv1D, or an <see cref="ILinearWeight"/> such as a 4-bit layer):
/// y = base(x) + s B A dropout(x), A [r, in], B [out, r], s = alpha / r (alpha / sqrt r with rsLoRA). With DoRA
/// (Liu et al. 2024) y = m / ||W + s B A||_row (W + s B A) x + b, the norm detached as in the paper's section 4.3.
/// Parameter names follow Hugging Face PEFT: lora_A.&lt;adapter&gt;.weight, lora_B.&lt;adapter&gt;.weight,
/// lora_magnitude_vector.&lt;adapter&gt;.weight. Adapter weights are float32 whatever the base dtype (as PEFT's
/// autocast_adapter_dtype), inputs are cast to them and results back.
/// </summary>
public sealed class LoraLayer : AdapterLayer
{
    readonly AdapterModules<Linear> lora_A = new();
    readonly AdapterModules<Linear> lora_B = new();
    readonly AdapterModules<ParameterHolder> lora_magnitude_vector = new();
    readonly AdapterModules<ParameterHolder> lora_bias_override = new();
    readonly Dictionary<string, LoraAdapterSettings> _settings = new(StringComparer.Ordinal);
    readonly Dictionary<string, Tensor> _normsAtMerge = new(StringComparer.Ordinal);
    readonly Dictionary<string, Tensor> _biasesBeforeMerge = new(StringComparer.Ordinal);
    readonly Dictionary<string, (Tensor A, Tensor B)> _initialFactors = new(StringComparer.Ordinal);

    public LoraLayer(nn.Module<Tensor, Tensor> baseLayer) : base(nameof(LoraLayer), baseLayer)
    {
        if (!LinearWeights.IsLinear(baseLayer)) throw new ArgumentException($"LoRA wraps linear layers, not {baseLayer.GetType().Name}", nameof(baseLayer));
        (InFeatures, OutFeatures) = LinearWeights.Features(baseLayer);
        register_module("lora_A", lora_A);
        register_module("lora_B", lora_B);
        register_module("lora_magnitude_vector", lora_magnitude_vector);
        register_module("lora_bias_override", lora_bias_override);
    }

    public long InFeatures { get; }
    public long OutFeatures { get; }

    public LoraAdapterSettings Settings(string adapter) => _settings[adapter];

    /// <summary>
    /// Adds an adapter and initialises it. PiSSA/OLoRA inits rewrite the base weight to the residual (as in PEFT).
    /// </summary>
    public void AddAdapter(string name, LoraAdapterSettings settings, string init, bool loraBias, ScalarType dtype = ScalarType.Float32, Generator? generator = null)
    {
        var a = nn.Linear(InFeatures, settings.Rank, hasBias: false, dtype: dtype);
        var b = nn.Linear(settings.Rank, OutFeatures, hasBias: loraBias, dtype: dtype);
        var residual = LoraInit.Apply(init, a.weight!, b.weight!, settings.Scaling, LoraInit.ChangesBaseWeight(init) ? LinearWeights.WeightOutIn(base_layer) : null, generator);
        if (residual is not null)
        {
            LinearWeights.SetWeightOutIn(base_layer, residual);
            _initialFactors[name] = (a.weight!.detach().clone().DetachFromDisposeScope(), b.weight!.detach().clone().DetachFromDisposeScope());
        }
        if (b.bias is { } bias) using (no_grad()) bias.zero_();
        lora_A.Add(name, a);
        lora_B.Add(name, b);
        _settings[name] = settings;
        if (settings.UseDora)
            lora_magnitude_vector.Add(name, new ParameterHolder(new Parameter(WeightNorm(name).to(dtype))));
        if (settings.TrainBias)
        {
            var baseBias = LinearWeights.Bias(base_layer) ?? throw new ArgumentException("bias training needs a layer with a bias");
            lora_bias_override.Add(name, new ParameterHolder(new Parameter(baseBias.detach().to(dtype).clone())));
        }
        Track(name);
    }

    /// <summary>
    /// The A0 [r, in] and B0 [out, r] a PiSSA/OLoRA adapter started from (the base weight holds W - s B0 A0 since), or null
    /// for adapters whose init left the base alone. Saving uses them to write the adapter as plain LoRA for W.
    /// </summary>
    public (Tensor A, Tensor B)? InitialFactors(string name) => _initialFactors.TryGetValue(name, out var factors) ? factors : null;

    /// <summary>The update s B A as [out, in] in float32.</summary>
    public Tensor DeltaWeight(string name)
    {
        using var scope = NewDisposeScope();
        var a = lora_A[name].weight!.to(ScalarType.Float32);
        var b = lora_B[name].weight!.to(ScalarType.Float32);
        return (b.matmul(a) * _settings[name].Scaling).MoveToOuterDisposeScope();
    }

    /// <summary>||W + s B A|| per output row, [out], detached (DoRA's denominator).</summary>
    Tensor WeightNorm(string name)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var weight = LinearWeights.WeightOutIn(base_layer).to(ScalarType.Float32) + DeltaWeight(name);
        return linalg.norm(weight, dims: new long[] { 1 }).MoveToOuterDisposeScope();
    }

    protected override Tensor? AdditiveContribution(Tensor input, string adapter)
    {
        var s = _settings[adapter];
        if (s.UseDora) return null;    // DoRA rescales the base output per column: not a sum
        using var scope = NewDisposeScope();
        var a = lora_A[adapter];
        var x = input.to(a.weight!.dtype);
        if (training && s.Dropout > 0) x = nn.functional.dropout(x, s.Dropout, training: true);
        var contribution = lora_B[adapter].call(a.call(x)) * s.Scaling;                                  // [..., out]
        if (s.TrainBias) contribution = contribution + (lora_bias_override[adapter].weight - LinearWeights.Bias(base_layer)!.to(x.dtype));
        return contribution.MoveToOuterDisposeScope();
    }

    protected override Tensor ForwardWith(Tensor input, IReadOnlyList<string> adapters)
    {
        using var scope = NewDisposeScope();
        var result = base_layer.call(input);
        var baseResult = result;
        foreach (string name in adapters)
        {
            var s = _settings[name];
            if (!s.UseDora)
            {
                result = result + AdditiveContribution(input, name)!.to(result.dtype);
                continue;
            }
            var a = lora_A[name];
            var x = input.to(a.weight!.dtype);
            bool dropping = training && s.Dropout > 0;
            if (dropping) x = nn.functional.dropout(x, s.Dropout, training: true);
            var update = lora_B[name].call(a.call(x));                                             // [..., out]
            var weight = LinearWeights.WeightOutIn(base_layer).to(x.dtype);
            var norm = linalg.norm((weight + DeltaWeight(name).to(x.dtype)).detach(), dims: new long[] { 1 });  // [out]
            var scale = lora_magnitude_vector[name].weight / norm;                                     // [out]
            var bias = LinearWeights.Bias(base_layer);
            var plain = dropping || bias is null
                ? (dropping ? nn.functional.linear(x, weight) : baseResult.to(x.dtype))
                : (baseResult - bias).to(x.dtype);                                                 // W x, without bias
            var contribution = (scale - 1) * plain + scale * update * s.Scaling;
            if (s.TrainBias) contribution = contribution + (lora_bias_override[name].weight - LinearWeights.Bias(base_layer)!.to(x.dtype));
            result = result + contribution.to(result.dtype);
        }
        return result.MoveToOuterDisposeScope();
    }

    protected override void MergeAdapter(string name, bool safe)
    {
        using var scope = NewDisposeScope();
        var s = _settings[name];
        var weight = LinearWeights.WeightOutIn(base_layer);
        var combined = weight.to(ScalarType.Float32) + DeltaWeight(name);
        if (s.UseDora)
        {
            var norm = linalg.norm(combined, dims: new long[] { 1 });
            combined = (lora_magnitude_vector[name].weight.to(ScalarType.Float32) / norm).unsqueeze(1) * combined;
            _normsAtMerge[name] = norm.detach().clone().DetachFromDisposeScope();
        }
        if (safe) EnsureFinite(combined, name);
        LinearWeights.SetWeightOutIn(base_layer, combined.to(weight.dtype));
        if (s.TrainBias) ReplaceBias(name, merging: true);
    }

    protected override void UnmergeAdapter(string name)
    {
        using var scope = NewDisposeScope();
        var s = _settings[name];
        var weight = LinearWeights.WeightOutIn(base_layer);
        var merged = weight.to(ScalarType.Float32);
        if (s.UseDora && _normsAtMerge.Remove(name, out var norm))
        {
            merged = merged / (lora_magnitude_vector[name].weight.to(ScalarType.Float32) / norm).unsqueeze(1);
            norm.Dispose();
        }
        LinearWeights.SetWeightOutIn(base_layer, (merged - DeltaWeight(name)).to(weight.dtype));
        if (s.TrainBias) ReplaceBias(name, merging: false);
    }

    /// <summary>Merging puts the adapter's trained bias into the base layer; unmerging restores the original.</summary>
    void ReplaceBias(string name, bool merging)
    {
        var baseBias = LinearWeights.Bias(base_layer)!;
        if (merging)
        {
            _biasesBeforeMerge[name] = baseBias.detach().clone().DetachFromDisposeScope();
            baseBias.copy_(lora_bias_override[name].weight.detach().to(baseBias.dtype));
        }
        else if (_biasesBeforeMerge.Remove(name, out var original))
        {
            baseBias.copy_(original);
            original.Dispose();
        }
    }

    protected override void RemoveAdapterState(string name)
    {
        lora_A.Remove(name);
        lora_B.Remove(name);
        lora_magnitude_vector.Remove(name);
        lora_bias_override.Remove(name);
        _settings.Remove(name);
        if (_initialFactors.Remove(name, out var initial))
        {
            initial.A.Dispose();
            initial.B.Dispose();
        }
    }

    public override IEnumerable<Parameter> AdapterParameters(string name)
    {
        foreach (var (_, p) in lora_A[name].named_parameters()) yield return p;
        foreach (var (_, p) in lora_B[name].named_parameters()) yield return p;
        if (lora_magnitude_vector.Contains(name)) yield return lora_magnitude_vector[name].weight;
        if (lora_bias_override.Contains(name)) yield return lora_bias_override[name].weight;
    }

    /// <summary>PEFT's saved keys: lora_A.weight, lora_B.weight (+ lora_B.bias), lora_magnitude_vector, base_layer.bias.</summary>
    public override IEnumerable<(string Key, Tensor Value)> AdapterState(string name)
    {
        yield return ("lora_A.weight", lora_A[name].weight!);
        yield return ("lora_B.weight", lora_B[name].weight!);
        if (lora_B[name].bias is { } bias) yield return ("lora_B.bias", bias);
        if (lora_magnitude_vector.Contains(name)) yield return ("lora_magnitude_vector", lora_magnitude_vector[name].weight);
        if (lora_bias_override.Contains(name)) yield return ("base_layer.bias", lora_bias_override[name].weight);
    }

    public override void LoadAdapterState(string name, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var targets = AdapterState(name).ToDictionary(t => t.Key, t => t.Value);
        CheckKeys(tensors, targets.Keys);
        foreach (var (key, value) in tensors) CopyChecked(targets[key], value, key);
    }
}
