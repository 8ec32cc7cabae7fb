using PeftSharp.Models;
using PeftSharp.Tuners.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// The model-level side of Parallel and BatchSplit compositions (registered on the PeftModel as
/// "adapter_composition"): for Parallel it replicates the inputs n times (ids, embeddings, mask, positions, token
/// types), so the outputs have n B rows, branch by branch; for both it routes each row of layers that take one adapter a
/// row (LoRA, IA3, modules_to_save copies) to its branch's last adapter while the pass runs. Adapter sites split rows
/// themselves from the composition. Holds no adapters and no parameters.
/// </summary>
public sealed class CompositionInputs : nn.Module, IForwardAdapter
{
    /// <summary>Name under which the module is registered on the PeftModel.</summary>
    public const string ModuleName = "adapter_composition";

    readonly AdapterSetupState _state;
    List<string> _active = new();
    IDisposable? _routing;

    internal CompositionInputs(AdapterSetupState state) : base(nameof(CompositionInputs)) => _state = state;

    protected override void RegisterComponents() { }

    public IReadOnlyCollection<string> AdapterNames => Array.Empty<string>();
    public IReadOnlyList<string> ActiveAdapters => Array.Empty<string>();
    public void SetActiveAdapters(IReadOnlyList<string> names) => _active = names.ToList();
    public bool AdaptersDisabled { get; set; }
    public void DeleteAdapter(string name) { }
    public IEnumerable<Parameter> AdapterParameters(string name) => Enumerable.Empty<Parameter>();
    public IEnumerable<(string Key, Tensor Value)> AdapterState(string name) => Enumerable.Empty<(string, Tensor)>();

    public void LoadAdapterState(string name, IReadOnlyDictionary<string, Tensor> tensors)
    {
        if (tensors.Count > 0) throw new ArgumentException($"the composition module stores no tensors, got {string.Join(", ", tensors.Keys)}");
    }

    /// <exception cref="InvalidOperationException">Mixed-batch routing is already open, or the inputs carry a KV cache.</exception>
    public ModelInputs Prepare(ModelInputs inputs, PeftModel model)
    {
        // A pass that threw between Prepare and Finish left its routing open.
        _routing?.Dispose();
        _routing = null;
        var setup = _state.Resolve(_active);
        if (setup is null || !CompositionRows.SplitsRows(setup)) return inputs;
        if (AdapterRouting.Current is not null)
            throw new InvalidOperationException($"{setup} routes rows itself; it cannot run under RouteRows (mixed-batch routing)");
        if (inputs.Cache is not null)
            throw new InvalidOperationException($"{setup} cannot run with a KV cache (generation or prefix tuning): its rows would not match the cache's");
        int replicas = CompositionRows.Replicas(setup);
        var prepared = replicas == 1 ? inputs : Replicate(inputs, replicas);
        var labels = CompositionRows.Labels(setup, prepared.Shape().Batch, _state);
        _routing = AdapterRouting.PerRow(labels);
        return prepared;
    }

    public void Abandon()
    {
        _routing?.Dispose();
        _routing = null;
    }

    public ModelOutputs Finish(ModelOutputs outputs, ModelInputs original, ModelInputs prepared)
    {
        _routing?.Dispose();
        _routing = null;
        return outputs;
    }

    /// <summary>Every per-row input tensor repeated n times along the batch: [B, ...] -> [n B, ...].</summary>
    static ModelInputs Replicate(ModelInputs inputs, int n)
    {
        static Tensor? Repeat(Tensor? t, int n) => t is null ? null : t.repeat(new long[] { n }.Concat(Enumerable.Repeat(1L, (int)t.dim() - 1)).ToArray());
        return inputs with
        {
            InputIds = Repeat(inputs.InputIds, n),
            InputsEmbeds = Repeat(inputs.InputsEmbeds, n),
            AttentionMask = Repeat(inputs.AttentionMask, n),
            PositionIds = Repeat(inputs.PositionIds, n),
            TokenTypeIds = Repeat(inputs.TokenTypeIds, n),
        };
    }
}
