using PeftSharp.Models;
using PeftSharp.Tuners.Common;

namespace PeftSharp.Experiments;

/// <summary>
/// A fine-tuning method by name, as <c>peft train --method</c> and <c>peft compare</c> use it: the adapter config it
/// attaches (built for the model's config, e.g. the top quarter of its blocks) and the learning rate it trains with
/// unless told otherwise. Recipes differ only in these; the training budget is the caller's.
/// </summary>
/// <param name="Name">Command-line name ("lora", "bitfit").</param>
/// <param name="Summary">One line: what trains, and the paper.</param>
/// <param name="LearningRate">Default peak learning rate (the method's usual one; see docs/compare.md).</param>
/// <param name="CreateConfig">The adapter config for a model.</param>
public sealed record MethodRecipe(string Name, string Summary, double LearningRate, Func<ModelConfig, PeftConfig> CreateConfig)
{
    /// <summary>The config for a model with <paramref name="config"/>; its peft_type names the method in adapter_config.json.</summary>
    public PeftConfig ConfigFor(ModelConfig config) => CreateConfig(config);
}
