using System.Runtime.CompilerServices;
using PeftSharp.Models;
using PeftSharp.Tuners.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Prompts;

/// <summary>
/// PEFT's "prompt_encoder": the model-level module holding every prompt-learning adapter's encoder by adapter name
/// (parameters "prompt_encoder.&lt;adapter&gt;.embedding.weight", ...). Before the transformer runs it puts the
/// active adapter's virtual tokens ahead of the input: prepended to the input embeddings (prompt tuning, P-tuning)
/// with the attention mask extended by ones, or as every layer's key/value prefix in the cache (prefix tuning, P-tuning
/// v2); afterwards it drops virtual positions from per-token outputs so they align with the caller's tokens (labels
/// need no ignored positions). Under <see cref="AdapterRouting"/> each row gets its own adapter's tokens (see
/// <see cref="PromptLayout"/>). Virtual tokens cannot be merged into weights.
/// </summary>
public sealed class PromptLearningAdapter : nn.Module, IForwardAdapter
{
    /// <summary>The module's name on the PEFT model, as PEFT's.</summary>
    public const string ModuleName = "prompt_encoder";

    /// <summary>The single tensor an adapter file holds, as PEFT's.</summary>
    public const string SavedKey = "prompt_embeddings";

    readonly Dictionary<string, VirtualTokenEncoder> _encoders = new(StringComparer.Ordinal);
    readonly ConditionalWeakTable<ModelInputs, PromptLayout> _layouts = new();
    List<string> _active = new();

    public PromptLearningAdapter() : base(nameof(PromptLearningAdapter)) { }

    /// <summary>Children are registered explicitly under adapter names; no field reflection.</summary>
    protected override void RegisterComponents() { }

    public IReadOnlyCollection<string> AdapterNames => _encoders.Keys;
    public IReadOnlyList<string> ActiveAdapters => _active;
    public bool AdaptersDisabled { get; set; }

    public void SetActiveAdapters(IReadOnlyList<string> names) => _active = names.Where(_encoders.ContainsKey).ToList();

    /// <summary>The encoder of one adapter.</summary>
    public VirtualTokenEncoder Encoder(string name) =>
        _encoders.TryGetValue(name, out var encoder) ? encoder : throw new ArgumentException($"no prompt-learning adapter named '{name}'", nameof(name));

    /// <summary>Adds an adapter's encoder (inactive until the PEFT model activates it).</summary>
    public void AddAdapter(string name, VirtualTokenEncoder encoder)
    {
        if (_encoders.ContainsKey(name)) throw new ArgumentException($"adapter '{name}' already exists", nameof(name));
        _encoders[name] = encoder;
        register_module(name, encoder);
        encoder.train(training);
    }

    public void DeleteAdapter(string name)
    {
        if (!_encoders.Remove(name, out var encoder)) return;
        register_module(name, null!);
        encoder.Dispose();
        _active.Remove(name);
    }

    /// <summary>Replaces an adapter's reparameterisation network by the prompt it produces (see <see cref="VirtualTokenEncoder.Fold"/>).</summary>
    public void Fold(string name) => Encoder(name).Fold();

    public IEnumerable<Parameter> AdapterParameters(string name) => Encoder(name).parameters();

    public IEnumerable<(string Key, Tensor Value)> AdapterState(string name)
    {
        yield return (SavedKey, Encoder(name).SavedPrompt());
    }

    public void LoadAdapterState(string name, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var unknown = tensors.Keys.Where(k => k != SavedKey).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"unexpected tensor(s) {string.Join(", ", unknown)} (prompt learning stores only {SavedKey})");
        if (!tensors.TryGetValue(SavedKey, out var saved)) throw new ArgumentException($"missing tensor {SavedKey}");
        Encoder(name).LoadPrompt(saved, SavedKey);
    }

    public ModelInputs Prepare(ModelInputs inputs, PeftModel model)
    {
        // A cache that already holds positions: generation after its first step, whose prompt is in the cache already.
        if (inputs.Cache is { Length: > 0 } cache) return PromptLayout.Continue(inputs, cache);
        var rows = RowAdapters(inputs.Shape().Batch);
        if (rows is null) return inputs;
        var dtype = model.Model.DType;
        var prompts = rows.OfType<string>().Distinct().ToDictionary(a => a, a => Encoder(a).Prompt().to(dtype));
        var perRow = rows.Select(a => a is null ? ((VirtualTokenEncoder, Tensor)?)null : (Encoder(a), prompts[a])).ToArray();
        var (prepared, layout) = PromptLayout.Prepare(inputs, model.Model, perRow);
        _layouts.AddOrUpdate(prepared, layout);
        return prepared;
    }

    public ModelOutputs Finish(ModelOutputs outputs, ModelInputs original, ModelInputs prepared)
    {
        if (!_layouts.TryGetValue(prepared, out var layout)) return outputs;
        _layouts.Remove(prepared);
        if (layout.OwnsCache) prepared.Cache!.Dispose();
        if (layout.VirtualWidth == 0) return outputs;
        long length = original.Shape().Length, positions = length + layout.VirtualWidth;
        var logits = outputs.Logits;
        return outputs with
        {
            LastHiddenState = layout.Tokens(outputs.LastHiddenState, length),
            Logits = logits is { } l && l.dim() == 3 && l.shape[1] == positions ? layout.Tokens(l, length) : logits,
        };
    }

    /// <summary>Each row's adapter (null: none), or null when no row has one of this module's adapters.</summary>
    string?[]? RowAdapters(long batch)
    {
        if (AdapterRouting.Current is { } routing)
        {
            if (routing.Count != batch) throw new ArgumentException($"adapter routing names {routing.Count} rows but the batch has {batch}");
            var rows = routing.Select(n => _encoders.ContainsKey(n) ? n : null).ToArray();
            return rows.Any(r => r is not null) ? rows : null;
        }
        if (_active.Count == 0) return null;
        if (_active.Count > 1)
            throw new InvalidOperationException(
                $"prompt-learning adapters {string.Join(", ", _active)} are all active; like PEFT, one is applied at a time (activate one, or route rows to them)");
        return Enumerable.Repeat<string?>(_active[0], (int)batch).ToArray();
    }
}
