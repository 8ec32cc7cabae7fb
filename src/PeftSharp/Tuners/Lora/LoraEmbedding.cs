using PeftSharp.Tuners.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Lora;

/// <summary>
/// LoRA on a token embedding (as Hugging Face PEFT): y = E[x] + s (A^T[x]) B^T with A [r, vocab] starting at zero and
/// B [dim, r] normal, so the layer starts as the base. Saved keys lora_embedding_A and lora_embedding_B.
/// </summary>
public sealed class LoraEmbedding : AdapterLayer
{
    readonly AdapterModules<ParameterHolder> lora_embedding_A = new();
    readonly AdapterModules<ParameterHolder> lora_embedding_B = new();
    readonly Dictionary<string, double> _scaling = new(StringComparer.Ordinal);

    public LoraEmbedding(Embedding baseLayer) : base(nameof(LoraEmbedding), baseLayer)
    {
        var weight = baseLayer.weight!;
        (Count, Dim) = (weight.shape[0], weight.shape[1]);
        register_module("lora_embedding_A", lora_embedding_A);
        register_module("lora_embedding_B", lora_embedding_B);
    }

    public long Count { get; }
    public long Dim { get; }

    Parameter Weight => ((Embedding)base_layer).weight!;

    public void AddAdapter(string name, int rank, double scaling, string init, ScalarType dtype = ScalarType.Float32, Generator? generator = null)
    {
        if (init is not ("true" or "false" or "gaussian"))
            throw new ConfigException("LoRA config", "init_lora_weights", $"'{init}' is not available for embedding layers (use true, false or gaussian)");
        var a = zeros(new[] { rank, Count }, dtype);
        var b = randn(new[] { Dim, rank }, dtype, generator: generator);
        if (init == "false") using (no_grad()) a.normal_(0, 1, generator);
        lora_embedding_A.Add(name, new ParameterHolder(new Parameter(a)));
        lora_embedding_B.Add(name, new ParameterHolder(new Parameter(b)));
        _scaling[name] = scaling;
        Track(name);
    }

    /// <summary>Scale s of an adapter's update.</summary>
    public double Scaling(string name) => _scaling[name];

    /// <summary>The update s (B A)^T as [vocab, dim] in float32.</summary>
    public Tensor DeltaWeight(string name)
    {
        using var scope = NewDisposeScope();
        var a = lora_embedding_A[name].weight.to(ScalarType.Float32);
        var b = lora_embedding_B[name].weight.to(ScalarType.Float32);
        return (b.matmul(a).t() * _scaling[name]).MoveToOuterDisposeScope();
    }

    protected override Tensor ForwardWith(Tensor input, IReadOnlyList<string> adapters)
    {
        using var scope = NewDisposeScope();
        var result = base_layer.call(input);                                              // [..., dim]
        foreach (string name in adapters)
        {
            var a = lora_embedding_A[name].weight;
            var afterA = a.t().index_select(0, input.flatten()).view(input.shape.Append(a.shape[0]).ToArray()); // [..., r]
            var update = afterA.matmul(lora_embedding_B[name].weight.t()) * _scaling[name];
            result = result + update.to(result.dtype);
        }
        return result.MoveToOuterDisposeScope();
    }

    protected override void MergeAdapter(string name, bool safe)
    {
        using var scope = NewDisposeScope();
        var merged = Weight.to(ScalarType.Float32) + DeltaWeight(name);
        if (safe) EnsureFinite(merged, name);
        Weight.copy_(merged.to(Weight.dtype));
    }

    protected override void UnmergeAdapter(string name)
    {
        using var scope = NewDisposeScope();
        Weight.copy_((Weight.to(ScalarType.Float32) - DeltaWeight(name)).to(Weight.dtype));
    }

    protected override void RemoveAdapterState(string name)
    {
        lora_embedding_A.Remove(name);
        lora_embedding_B.Remove(name);
        _scaling.Remove(name);
    }

    public override IEnumerable<Parameter> AdapterParameters(string name)
    {
        yield return lora_embedding_A[name].weight;
        yield return lora_embedding_B[name].weight;
    }

    public override IEnumerable<(string Key, Tensor Value)> AdapterState(string name)
    {
        yield return ("lora_embedding_A", lora_embedding_A[name].weight);
        yield return ("lora_embedding_B", lora_embedding_B[name].weight);
    }

    public override void LoadAdapterState(string name, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var targets = AdapterState(name).ToDictionary(t => t.Key, t => t.Value);
        CheckKeys(tensors, targets.Keys);
        foreach (var (key, value) in tensors) CopyChecked(targets[key], value, key);
    }
}
