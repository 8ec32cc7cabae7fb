using PeftSharp.Tuners.Common;

namespace PeftSharp.Tuners.Prompts;

/// <summary>Prompt-learning operations on a <see cref="PeftModel"/>, and what any method costs in context length.</summary>
public static class PromptLearning
{
    /// <summary>The model's "prompt_encoder", or null when it carries no prompt-learning adapter.</summary>
    public static PromptLearningAdapter? Adapter(PeftModel peft) => peft.ForwardAdapters.OfType<PromptLearningAdapter>().FirstOrDefault();

    /// <summary>
    /// Folds adapter <paramref name="name"/>'s reparameterisation (prefix MLP, P-tuning's LSTM/MLP) into the prompt it
    /// produces, so inference carries only that tensor; outputs are unchanged. Saving does this in the file anyway.
    /// </summary>
    public static void Fold(PeftModel peft, string name)
    {
        if (!peft.Adapters.ContainsKey(name)) throw new ArgumentException($"no adapter named '{name}'", nameof(name));
        var adapter = Adapter(peft);
        if (adapter is null || !adapter.AdapterNames.Contains(name)) throw new ArgumentException($"adapter '{name}' is not a prompt-learning adapter", nameof(name));
        adapter.Fold(name);
    }

    /// <summary>Positions of the model's context an adapter with this config takes before the input (0 for methods that add none).</summary>
    public static int PositionsUsed(PeftConfig config) => config is PromptLearningConfig prompt ? prompt.PositionsUsed : 0;

    /// <summary>The context length left for the input with adapter <paramref name="name"/>: the model's positions minus the virtual tokens.</summary>
    public static int ContextLeft(PeftModel peft, string name) =>
        peft.Model.Config.MaxPositions - PositionsUsed(peft.Adapters.TryGetValue(name, out var config) ? config : throw new ArgumentException($"no adapter named '{name}'", nameof(name)));
}
