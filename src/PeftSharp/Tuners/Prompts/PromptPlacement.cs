namespace PeftSharp.Tuners.Prompts;

/// <summary>Where an adapter's virtual tokens go.</summary>
public enum PromptPlacement
{
    /// <summary>Prepended to the input embeddings (prompt tuning, P-tuning): [P, hidden].</summary>
    InputEmbeddings,

    /// <summary>Put in every layer's key/value cache (prefix tuning, P-tuning v2): [P, layers x 2 x kv_heads x head_dim].</summary>
    KeyValuePrefix,
}
