using PeftSharp.Models;

namespace PeftSharp.Tuners.Common;

/// <summary>
/// A model-level adapter that rewrites a whole forward pass rather than one layer: prompt tuning prepends virtual
/// token embeddings, prefix tuning fills the key/value cache, a parallel composition replicates the batch. It is
/// registered on the <see cref="PeftModel"/> itself (outside the transformer), so its saved keys carry no
/// "base_model.model." prefix (PEFT saves prompt learning as "prompt_embeddings").
/// </summary>
public interface IForwardAdapter : IAdapterModule
{
    /// <summary>
    /// Rewrites the inputs for this module's active adapters (or, under <see cref="AdapterRouting"/>, each row's
    /// adapter). Returns the inputs unchanged when none of its adapters is active.
    /// </summary>
    ModelInputs Prepare(ModelInputs inputs, PeftModel model);

    /// <summary>Undoes in the outputs what <see cref="Prepare"/> changed (e.g. drops virtual-token positions).</summary>
    ModelOutputs Finish(ModelOutputs outputs, ModelInputs original, ModelInputs prepared);

    /// <summary>Releases what <see cref="Prepare"/> set up when the forward pass failed before <see cref="Finish"/>.</summary>
    void Abandon() { }
}
