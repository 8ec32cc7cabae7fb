using PeftSharp.Models;
using PeftSharp.Tuners.Common;

namespace PeftSharp.Tuners.Prompts;

/// <summary>Attaches P-tuning (peft_type "P_TUNING"): virtual tokens from an MLP or LSTM prompt encoder.</summary>
public sealed class PTuningMethod : PromptLearningMethod
{
    public override string PeftType => "P_TUNING";
    public override string Description => "P-tuning: virtual tokens produced by an MLP or bidirectional-LSTM prompt encoder (Liu et al. 2021)";

    public override PeftConfig ReadConfig(ConfigReader reader) => PTuningConfig.Read(reader);

    protected override VirtualTokenEncoder CreateEncoder(TransformerModel model, PromptLearningConfig config) =>
        new PTuningEncoder((PTuningConfig)config, folded: config.InferenceMode);
}
