namespace PeftSharp.Models;

/// <summary>The head a model carries on top of its transformer.</summary>
public enum ModelTask
{
    /// <summary>No head: the bare transformer (Hugging Face's "XModel").</summary>
    Base,

    /// <summary>Next-token prediction ("XForCausalLM", "GPT2LMHeadModel").</summary>
    CausalLM,

    /// <summary>Masked-token prediction ("XForMaskedLM").</summary>
    MaskedLM,

    /// <summary>One label per sequence ("XForSequenceClassification").</summary>
    SequenceClassification,

    /// <summary>One label per token ("XForTokenClassification").</summary>
    TokenClassification,
}
