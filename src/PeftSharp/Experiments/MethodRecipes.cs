using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.IA3;
using PeftSharp.Tuners.Lora;
using PeftSharp.Tuners.Selection;

namespace PeftSharp.Experiments;

/// <summary>
/// The methods <c>peft train</c> knows by name and <c>peft compare</c> runs, in the order of the comparison table.
/// Adding a method to both is one line here. Learning rates were tuned a little on the bundled encoder and task
/// (docs/compare.md); every other setting is the method's usual default.
/// </summary>
public static class MethodRecipes
{
    static readonly List<MethodRecipe> Registered =
    [
        new("full", "Full fine-tuning: every parameter trains (the baseline)", 1e-4, _ => new PartialFineTuningConfig { Full = true }),
        new("partial", "Partial fine-tuning: the top quarter of the blocks (Lee et al. 2019)", 3e-4,
            config => new PartialFineTuningConfig { TrainableLayers = Math.Max(1, config.NumLayers / 4) }),
        new("bitfit", "BitFit: every bias term (Ben Zaken et al. 2022)", 3e-3, _ => new BitFitConfig()),
        new("ln-tuning", "LayerNorm tuning: the normalisation layers' weights and biases (Zhao et al. 2024)", 3e-3, _ => new LnTuningConfig()),
        new("ia3", "(IA)3: learned scaling of keys, values and feed-forward activations (Liu et al. 2022)", 1e-2, _ => new IA3Config()),
        new("lora", "LoRA r 8, alpha 16, dropout 0.1 on the attention query and value (Hu et al. 2021)", 1e-3,
            _ => new LoraConfig { R = 8, LoraAlpha = 16, LoraDropout = 0.1 }),
        new("dora", "DoRA: LoRA r 8 with a learned magnitude per output (Liu et al. 2024)", 1e-3,
            _ => new LoraConfig { R = 8, LoraAlpha = 16, LoraDropout = 0.1, UseDora = true }),
    ];

    /// <summary>Every recipe, in table order.</summary>
    public static IReadOnlyList<MethodRecipe> All => Registered;

    /// <summary>The recipe called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No recipe has that name; the message lists them.</exception>
    public static MethodRecipe Find(string name) =>
        Registered.FirstOrDefault(r => r.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown method '{name}' (known: {string.Join(", ", Registered.Select(r => r.Name))})", nameof(name));

    /// <summary>The first recipe whose config has <paramref name="peftType"/> (for a default learning rate), or null.</summary>
    public static MethodRecipe? ForPeftType(string peftType, Models.ModelConfig config) =>
        Registered.FirstOrDefault(r => r.ConfigFor(config).PeftType == peftType);

    /// <summary>Adds a recipe (e.g. a user's own method); its name must be new.</summary>
    public static void Register(MethodRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        if (Registered.Any(r => r.Name.Equals(recipe.Name, StringComparison.OrdinalIgnoreCase)))
            throw new ArgumentException($"a method named '{recipe.Name}' is already registered", nameof(recipe));
        Registered.Add(recipe);
    }
}
