using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Common;

/// <summary>
/// A module that holds per-adapter state keyed by adapter name (a LoRA layer, an IA3 layer, a trainable copy of a
/// head, an adapter at a site, a prompt encoder). The PEFT model drives every such module through this contract:
/// activation, disabling, deletion, trainable parameters, and the tensors that go into an adapter file.
/// </summary>
public interface IAdapterModule
{
    /// <summary>Names of the adapters this module holds.</summary>
    IReadOnlyCollection<string> AdapterNames { get; }

    /// <summary>Adapters whose contribution is computed (names this module does not hold are ignored).</summary>
    IReadOnlyList<string> ActiveAdapters { get; }

    void SetActiveAdapters(IReadOnlyList<string> names);

    /// <summary>When true the module behaves as the base model.</summary>
    bool AdaptersDisabled { get; set; }

    /// <summary>Removes an adapter and its parameters.</summary>
    void DeleteAdapter(string name);

    /// <summary>Trainable parameters of one adapter.</summary>
    IEnumerable<Parameter> AdapterParameters(string name);

    /// <summary>
    /// The tensors of one adapter as an adapter file stores them: keys relative to this module's path, in Hugging Face
    /// PEFT's naming without the adapter name (e.g. "lora_A.weight", "ia3_l", "weight").
    /// </summary>
    IEnumerable<(string Key, Tensor Value)> AdapterState(string name);

    /// <summary>
    /// Fills one adapter from an adapter file's tensors for this module (keys as <see cref="AdapterState"/> gives them).
    /// </summary>
    /// <exception cref="ArgumentException">A key is unknown or missing, or a shape differs (the message names both shapes).</exception>
    void LoadAdapterState(string name, IReadOnlyDictionary<string, Tensor> tensors);
}

/// <summary>An adapter module whose adapters can be folded into the base weights and taken out again.</summary>
public interface IMergeableAdapterModule : IAdapterModule
{
    /// <summary>Adapters currently folded into the base weights, in merge order.</summary>
    IReadOnlyList<string> MergedAdapters { get; }

    /// <summary>
    /// Folds the named adapters into the base weights. With <paramref name="safe"/>, the merged weights are computed on
    /// a copy first and the merge is refused (nothing changed) if any value is NaN or infinite.
    /// </summary>
    void Merge(IReadOnlyList<string> names, bool safe);

    /// <summary>Takes every merged adapter out of the base weights again.</summary>
    void Unmerge();

    /// <summary>The wrapped base module (after <see cref="Merge"/>, it carries the merged weights).</summary>
    nn.Module BaseModule { get; }
}
