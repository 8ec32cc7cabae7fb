using PeftSharp.Tuners.Common;

namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// The MAD-X workflow (Pfeiffer et al. 2020) on PeftModels of one base: (1) train a language adapter with an invertible
/// adapter by masked (or causal) language modelling on text of one language or domain, on the base with its LM head,
/// and save it; (2) on the task model, load the language adapter and add a task adapter stacked on it,
/// Stack(language, task), training the task adapter (and its head copy) while the language adapter stays frozen;
/// (3) at inference swap in another language's adapter under the same task adapter (zero-shot transfer), or none.
/// The training itself is any loop or trainer over the PeftModel's trainable parameters.
/// </summary>
public static class MadX
{
    /// <summary>MAD-X's language adapter: Pfeiffer placement, reduction 2, relu, NICE invertible adapter with reduction 2.</summary>
    /// <remarks>
    /// task_type is FEATURE_EXTRACTION: the adapter produces representations, so a task model it is loaded into does not
    /// give it a copy of the task head (only the task adapter trains one).
    /// </remarks>
    public static BottleneckConfig LanguageAdapterConfig() => new()
    {
        Placement = BottleneckPlacement.Pfeiffer, ReductionFactor = 2, InvAdapter = "nice", InvAdapterReductionFactor = 2, TaskType = "FEATURE_EXTRACTION",
    };

    /// <summary>MAD-X's task adapter: Pfeiffer placement, reduction 16, relu, no invertible adapter.</summary>
    public static BottleneckConfig TaskAdapterConfig() => new() { Placement = BottleneckPlacement.Pfeiffer, ReductionFactor = 16 };

    /// <summary>
    /// Step 1, on a model with a language-model head: adds language adapter <paramref name="language"/> (default
    /// <see cref="LanguageAdapterConfig"/>), active alone and the only thing that trains. Train it with the LM objective,
    /// then save it with <see cref="PeftModel.SaveAdapter"/>.
    /// </summary>
    public static void AddLanguageAdapter(this PeftModel peft, string language, BottleneckConfig? config = null)
    {
        config ??= LanguageAdapterConfig();
        peft.AddAdapter(language, config with { TaskType = config.TaskType ?? "FEATURE_EXTRACTION" });
        peft.SetComposition(language, train: language);
    }

    /// <summary>
    /// Step 2, on the task model holding language adapter <paramref name="language"/> (added or loaded): adds task adapter
    /// <paramref name="task"/> (default <see cref="TaskAdapterConfig"/>) and activates Stack(language, task) with only the
    /// task adapter (and its copy of the task head) trainable.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="language"/> is not a bottleneck adapter of the model.</exception>
    /// <exception cref="ConfigException">The task adapter has an invertible adapter (the language adapter's is used).</exception>
    public static void AddTaskAdapter(this PeftModel peft, string task, string language, BottleneckConfig? config = null)
    {
        RequireBottleneck(peft, language, nameof(language));
        config ??= TaskAdapterConfig();
        if (config.InvAdapter is not null)
            throw new ConfigException("task adapter config", "inv_adapter", "a task adapter runs on the language adapter's invertible adapter; leave inv_adapter unset");
        peft.AddAdapter(task, config);
        peft.SetComposition(Compose.Stack(language, task), train: task);
    }

    /// <summary>
    /// Step 3: runs task adapter <paramref name="task"/> over language adapter <paramref name="language"/> (any language
    /// adapter of the model, e.g. another domain's), or alone when <paramref name="language"/> is null. Nothing trains.
    /// </summary>
    public static void UseLanguageAdapter(this PeftModel peft, string task, string? language)
    {
        RequireBottleneck(peft, task, nameof(task));
        if (language is null)
        {
            peft.SetComposition(task);
            return;
        }
        RequireBottleneck(peft, language, nameof(language));
        peft.SetComposition(Compose.Stack(language, task));
    }

    static void RequireBottleneck(PeftModel peft, string name, string parameter)
    {
        if (!peft.Adapters.TryGetValue(name, out var config))
            throw new ArgumentException($"no adapter named '{name}' (adapters: {string.Join(", ", peft.Adapters.Keys)})", parameter);
        if (config is not BottleneckConfig)
            throw new ArgumentException($"'{name}' is a {config.PeftType} adapter; MAD-X stacks bottleneck adapters", parameter);
    }
}
