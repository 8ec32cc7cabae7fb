using PeftSharp.Tuners.Adapters;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.IA3;
using PeftSharp.Tuners.Lora;
using PeftSharp.Tuners.Prompts;
using PeftSharp.Tuners.Selection;

namespace PeftSharp.Experiments;

/// <summary>
/// The methods <c>peft train</c> knows by name and <c>peft compare</c> runs, in the order of the comparison table.
/// Adding a method to both is one line here. Learning rates are the usual ones of each method's paper or of PEFT's
/// examples (prompt and prefix methods need 10-30 times LoRA's); they were not tuned on our tasks (docs/compare.md).
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
        new("houlsby", "Bottleneck adapters after attention and feed-forward, reduction 16 (Houlsby et al. 2019)", 1e-3, _ => BottleneckConfig.Houlsby()),
        new("pfeiffer", "A bottleneck adapter after the feed-forward only, reduction 16 (Pfeiffer et al. 2021)", 1e-3, _ => BottleneckConfig.Pfeiffer()),
        new("prompt-tuning", $"Prompt tuning: {VirtualTokens} virtual tokens initialised from vocabulary rows (Lester et al. 2021)", 3e-2,
            _ => new PromptTuningConfig { NumVirtualTokens = VirtualTokens, PromptTuningInit = PromptTuningInit.SampleVocab }),
        new("p-tuning", $"P-tuning: {VirtualTokens} virtual tokens from an MLP prompt encoder (Liu et al. 2021)", 1e-2,
            _ => new PTuningConfig { NumVirtualTokens = VirtualTokens }),
        new("prefix", $"Prefix tuning / P-tuning v2: {VirtualTokens} key/value prefixes in every layer (Li and Liang 2021; Liu et al. 2022)", 1e-2,
            _ => new PrefixTuningConfig { NumVirtualTokens = VirtualTokens }),
        new("prefix-mlp", $"Prefix tuning through the MLP reparameterisation (folded away in the saved file)", 1e-3,
            _ => new PrefixTuningConfig { NumVirtualTokens = VirtualTokens, PrefixProjection = true }),
    ];

    /// <summary>Virtual tokens of the prompt-learning recipes: positions they take from the model's context.</summary>
    public const int VirtualTokens = 10;

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
