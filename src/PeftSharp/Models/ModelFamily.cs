using PeftSharp.Modules;

namespace PeftSharp.Models;

/// <summary>
/// One architecture family: how to read its config.json, which heads it offers, how to build a model, and what its
/// checkpoints contain besides the model's own tensors.
/// </summary>
public abstract class ModelFamily
{
    /// <summary>Family name, e.g. "llama".</summary>
    public abstract string Name { get; }

    /// <summary>config.json "model_type" values this family reads, e.g. llama, mistral, qwen2.</summary>
    public abstract IReadOnlyList<string> ModelTypes { get; }

    /// <summary>Heads this family offers.</summary>
    public abstract IReadOnlyList<ModelTask> Tasks { get; }

    public abstract ModelConfig ParseConfig(ConfigReader reader);

    /// <summary>Builds a model (weights initialised or left empty as the factory says).</summary>
    public abstract TransformerModel Create(ModelConfig config, ModelTask task, LayerFactory factory);

    /// <summary>Hugging Face class name for a model type and head, e.g. ("qwen2", CausalLM) -> "Qwen2ForCausalLM".</summary>
    public abstract string ArchitectureName(string modelType, ModelTask task);

    /// <summary>
    /// Checkpoint keys that are never model tensors (e.g. GPT-2's causal-mask buffers "attn.bias", rotary
    /// "inv_freq") and are skipped when loading.
    /// </summary>
    public virtual bool IsIgnorableCheckpointKey(string key) => key.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal);

    /// <summary>
    /// Backbone keys a checkpoint may carry that this head does not use (e.g. BERT's pooler when loading a masked-LM):
    /// dropped with a note instead of failing a strict load.
    /// </summary>
    public virtual bool IsUnusedBackboneKey(string key, ModelTask task) => false;

    /// <summary>The task whose Hugging Face class name is <paramref name="architecture"/>, or null.</summary>
    public ModelTask? TaskOf(string architecture)
    {
        foreach (string modelType in ModelTypes)
            foreach (var task in Tasks)
                if (ArchitectureName(modelType, task) == architecture) return task;
        return null;
    }

    /// <summary>Renames old checkpoint keys: LayerNorm "gamma"/"beta" of TensorFlow-era BERT checkpoints.</summary>
    public virtual string NormalizeKey(string key)
    {
        if (key.EndsWith(".gamma", StringComparison.Ordinal)) return key[..^6] + ".weight";
        if (key.EndsWith(".beta", StringComparison.Ordinal)) return key[..^5] + ".bias";
        return key;
    }
}
