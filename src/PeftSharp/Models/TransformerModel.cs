using PeftSharp.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models;

/// <summary>
/// A Hugging Face transformer rebuilt in TorchSharp: its module tree and parameter names are exactly those of the
/// Python class named by <see cref="Architecture"/>, so checkpoints and adapters load by key. Models know nothing
/// of fine-tuning methods; methods attach through module paths, <see cref="AdapterSite"/>s and the
/// <see cref="ModelInputs.Cache"/>.
/// </summary>
public abstract class TransformerModel : nn.Module<ModelInputs, ModelOutputs>
{
    protected TransformerModel(string name, ModelConfig config, ModelTask task) : base(name)
    {
        Config = config;
        Task = task;
    }

    public ModelConfig Config { get; }
    public ModelTask Task { get; }

    bool _gradientCheckpointing;

    /// <summary>
    /// Activation checkpointing: in training mode with gradients on, each transformer block keeps only its input and is
    /// recomputed during backward (<see cref="Training.ActivationCheckpoint"/>), trading about one extra forward pass for
    /// activation memory. Setting it also sets every transformer nested inside (a head model's backbone). Not usable
    /// with a KV cache in the inputs (prefix tuning, incremental decoding).
    /// </summary>
    public bool GradientCheckpointing
    {
        get => _gradientCheckpointing;
        set
        {
            _gradientCheckpointing = value;
            foreach (var (_, module) in named_modules())
                if (module is TransformerModel nested) nested._gradientCheckpointing = value;
        }
    }

    /// <summary>Hugging Face class name, e.g. "LlamaForCausalLM"; written to config.json "architectures".</summary>
    public abstract string Architecture { get; }

    /// <summary>
    /// Name of the bare transformer inside a model with a head ("model", "transformer", "bert", ...), or null for
    /// the bare transformer itself, whose keys carry no prefix.
    /// </summary>
    public abstract string? BaseModelPrefix { get; }

    /// <summary>The prefix Hugging Face uses for this family's bare transformer, whether or not this model has a head.</summary>
    public abstract string FamilyPrefix { get; }

    /// <summary>True for decoders (causal attention), false for bidirectional encoders.</summary>
    public abstract bool IsCausal { get; }

    /// <summary>
    /// The token embedding layer: ids [B, T] -> [B, T, hidden] (an nn.Embedding, or whatever a method put in its place).
    /// </summary>
    public abstract nn.Module<Tensor, Tensor> InputEmbeddings { get; }

    /// <summary>Number of transformer blocks (the KV cache needs one slot per block).</summary>
    public int LayerCount => Config.NumLayers;

    /// <summary>Key/value heads and head size of each attention layer (what a KV cache or a prefix must provide).</summary>
    public abstract (int KvHeads, int HeadDim) KeyValueShape { get; }

    /// <summary>
    /// Parameters shared with another, as key -> source key (e.g. "lm_head.weight" -> "model.embed_tokens.weight").
    /// Hugging Face omits the key from checkpoints; loading fills it through the source.
    /// </summary>
    public virtual IReadOnlyDictionary<string, string> TiedParameters => new Dictionary<string, string>();

    /// <summary>Module paths of the task head (excluded from "all-linear", candidates for modules_to_save).</summary>
    public virtual IReadOnlyList<string> HeadModules => Array.Empty<string>();

    /// <summary>Buffers that Hugging Face does not save (e.g. rotary tables); never expected in a checkpoint.</summary>
    public virtual IReadOnlyList<string> NonPersistentKeys => Array.Empty<string>();

    /// <summary>Element type of the model's floating-point parameters.</summary>
    public ScalarType DType => parameters().First().dtype;

    /// <summary>Device of the model's parameters.</summary>
    public Device Device => parameters().First().device;

    /// <summary>Convenience: logits for token ids [B, T] with an optional padding mask [B, T].</summary>
    public Tensor Logits(Tensor inputIds, Tensor? attentionMask = null) =>
        call(new ModelInputs { InputIds = inputIds, AttentionMask = attentionMask }).Logits
        ?? throw new InvalidOperationException($"{Architecture} has no head that produces logits");
}
