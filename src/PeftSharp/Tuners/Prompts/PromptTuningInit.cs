namespace PeftSharp.Tuners.Prompts;

/// <summary>How prompt tuning starts its virtual tokens (PEFT's PromptTuningInit).</summary>
public enum PromptTuningInit
{
    /// <summary>"RANDOM": N(0, 1) rows, as nn.Embedding starts (may lie off the embedding manifold).</summary>
    Random,

    /// <summary>"SAMPLE_VOCAB": embeddings of tokens drawn uniformly from the vocabulary.</summary>
    SampleVocab,

    /// <summary>"TEXT": embeddings of a text's tokens, cut or repeated to the number of virtual tokens.</summary>
    Text,
}
