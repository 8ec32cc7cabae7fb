using PeftSharp.Models;
using PeftSharp.Tuners.Common;

namespace PeftSharp.Tuners.Prompts;

/// <summary>
/// What the prompt-learning methods share when attaching: the config is resolved against the model (dimensions filled
/// in and checked), the method builds the adapter's encoder, and the encoder joins the model's "prompt_encoder".
/// </summary>
public abstract class PromptLearningMethod : PeftMethod
{
    public override PeftConfig Attach(PeftModel peft, string name, PeftConfig config)
    {
        var resolved = ((PromptLearningConfig)config).Resolve(peft.Model);
        var encoder = CreateEncoder(peft.Model, resolved);
        peft.ForwardAdapter(PromptLearningAdapter.ModuleName, () => new PromptLearningAdapter()).AddAdapter(name, encoder);
        return resolved;
    }

    /// <summary>
    /// The encoder of a new adapter. With inference_mode (a saved adapter about to be loaded) only the folded form: the
    /// file holds the prompt itself, and initialisation would be wasted.
    /// </summary>
    protected abstract VirtualTokenEncoder CreateEncoder(TransformerModel model, PromptLearningConfig config);
}
