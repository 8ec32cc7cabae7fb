using PeftSharp.Models;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners.Adapters;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.IA3;
using PeftSharp.Tuners.Lora;
using PeftSharp.Tuners.Prompts;
using PeftSharp.Tuners.Selection;

namespace PeftSharp.Tests.Tuners;

/// <summary>
/// Every method (and notable variant) of the shared test matrix, as a config factory. Adding a method means adding a
/// row here; every property test then runs it over every family and head in <see cref="TinyModels"/>.
/// </summary>
public static class MethodCases
{
    /// <summary>Name -> config (a fresh record per call; "false"-init variants make the adapter differ from the base).</summary>
    public static readonly IReadOnlyDictionary<string, Func<PeftConfig>> Configs = new Dictionary<string, Func<PeftConfig>>
    {
        ["lora"] = () => new LoraConfig { R = 4, LoraAlpha = 8 },
        ["lora-rslora-dropout"] = () => new LoraConfig { R = 4, LoraAlpha = 8, UseRsLora = true, LoraDropout = 0.1 },
        ["lora-gaussian-all-linear"] = () => new LoraConfig { R = 2, LoraAlpha = 4, InitLoraWeights = "gaussian", Targets = new TargetPatterns { Names = new[] { TargetPatterns.AllLinear } } },
        ["lora-pissa"] = () => new LoraConfig { R = 4, LoraAlpha = 4, InitLoraWeights = "pissa" },
        ["lora-olora"] = () => new LoraConfig { R = 4, LoraAlpha = 4, InitLoraWeights = "olora" },
        ["dora"] = () => new LoraConfig { R = 4, LoraAlpha = 8, UseDora = true },
        ["ia3"] = () => new IA3Config(),
        ["bitfit"] = () => new BitFitConfig(),
        ["ln-tuning"] = () => new LnTuningConfig(),
        ["partial"] = () => new PartialFineTuningConfig { TrainableLayers = 1 },
        ["full"] = () => new PartialFineTuningConfig { Full = true },
        ["bottleneck-houlsby"] = BottleneckConfig.Houlsby,
        ["bottleneck-pfeiffer"] = BottleneckConfig.Pfeiffer,
        ["bottleneck-parallel"] = BottleneckConfig.Parallel,
        ["bottleneck-pfeiffer-invertible"] = () => BottleneckConfig.Pfeiffer() with { InvAdapter = "nice", LearnedScaling = true, Dropout = 0.1 },
        ["prompt-tuning"] = () => new PromptTuningConfig { NumVirtualTokens = 4 },
        ["prefix"] = () => new PrefixTuningConfig { NumVirtualTokens = 4 },
        ["prefix-projection"] = () => new PrefixTuningConfig { NumVirtualTokens = 4, PrefixProjection = true, EncoderHiddenSize = 16 },
        ["p-tuning-mlp"] = () => new PTuningConfig { NumVirtualTokens = 4, EncoderHiddenSize = 16 },
        ["p-tuning-lstm"] = () => new PTuningConfig { NumVirtualTokens = 4, EncoderHiddenSize = 8, EncoderReparameterizationType = PromptEncoderReparameterization.Lstm },
    };

    /// <summary>Methods that rewrite base weights at initialisation, so "disabled" is not the original base.</summary>
    public static bool ChangesBase(string method) => method is "lora-pissa" or "lora-olora";

    /// <summary>Methods whose adapter starts as the identity (prompt learning starts from random virtual tokens instead).</summary>
    public static bool IdentityAtInit(string method) => !IsPromptLearning(method);

    /// <summary>
    /// Methods whose adapters fold into the base weights. Bottleneck adapters are extra layers and prompt learning rewrites
    /// the inputs: both must refuse to merge (bottleneck adapters still unload).
    /// </summary>
    public static bool Mergeable(string method) => !IsPromptLearning(method) && !method.StartsWith("bottleneck", StringComparison.Ordinal);

    /// <summary>
    /// Prompt learning: files hold "prompt_embeddings" and, as PEFT writes them for these methods, modules_to_save under
    /// "base_model.&lt;path&gt;" rather than "base_model.model.&lt;path&gt;".
    /// </summary>
    public static bool IsPromptLearning(string method) => Configs[method]() is PromptLearningConfig;

    /// <summary>
    /// Methods that have nothing to attach to on a family (BitFit on bias-free Llama/Mistral) and must say so clearly.
    /// </summary>
    public static bool NotApplicable(string method, string modelType) => method == "bitfit" && modelType is "llama" or "mistral";

    /// <summary>(method, model_type, task) for every method on every family and head.</summary>
    public static IEnumerable<object[]> All() =>
        from method in Configs.Keys
        from c in TinyModels.Cases()
        select new object[] { method, (string)c[0], (ModelTask)c[1] };

    /// <summary>One head per family (the causal LM where there is one, else sequence classification), every method.</summary>
    public static IEnumerable<object[]> OneHeadPerFamily() =>
        from method in Configs.Keys
        from type in TinyModels.Configs.Keys
        let tasks = TinyModels.Family(type).Tasks
        select new object[] { method, type, tasks.Contains(ModelTask.CausalLM) ? ModelTask.CausalLM : ModelTask.SequenceClassification };
}
