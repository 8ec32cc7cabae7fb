namespace PeftSharp.Tuners.Prompts;

/// <summary>The network that produces P-tuning's virtual tokens (PEFT's PromptEncoderReparameterizationType).</summary>
public enum PromptEncoderReparameterization
{
    /// <summary>"MLP": Linear -> ReLU -> Linear -> ReLU -> Linear.</summary>
    Mlp,

    /// <summary>"LSTM": a bidirectional LSTM, then Linear -> ReLU -> Linear.</summary>
    Lstm,
}
