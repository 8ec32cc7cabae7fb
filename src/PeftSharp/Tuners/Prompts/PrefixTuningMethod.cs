using PeftSharp.Models;
using PeftSharp.Tuners.Common;

namespace PeftSharp.Tuners.Prompts;

/// <summary>Attaches prefix tuning / P-tuning v2 (peft_type "PREFIX_TUNING"): learned key/value prefixes in every layer.</summary>
public sealed class PrefixTuningMethod : PromptLearningMethod
{
    public override string PeftType => "PREFIX_TUNING";
    public override string Description => "Prefix tuning / P-tuning v2: learned key/value prefixes in every attention layer (Li and Liang 2021; Liu et al. 2022)";

    public override PeftConfig ReadConfig(ConfigReader reader) => PrefixTuningConfig.Read(reader);

    protected override VirtualTokenEncoder CreateEncoder(TransformerModel model, PromptLearningConfig config) =>
        new PrefixEncoder((PrefixTuningConfig)config, folded: config.InferenceMode);
}
