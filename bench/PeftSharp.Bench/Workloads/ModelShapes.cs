using System.Text.Json.Nodes;
using PeftSharp.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Bench.Workloads;

/// <summary>
/// A model shape the benchmarks use, as Hugging Face config.json text, with the head built and the dtype its
/// generated checkpoint is saved in. Weights are random (AutoModel.Create), so only the shape matters.
/// </summary>
public sealed record ModelShape(string Name, string ConfigJson, ModelTask Task, ScalarType CheckpointDType)
{
    /// <summary>BERT-base (hidden 768, 12 layers, 12 heads, FFN 3072, vocab 30522) with a two-label classifier; fp32 file.</summary>
    public static readonly ModelShape BertBase = new("bert-base", """
        {"model_type": "bert", "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
         "vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
         "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "pad_token_id": 0, "torch_dtype": "float32",
         "id2label": {"0": "negative", "1": "positive"}}
        """, ModelTask.SequenceClassification, ScalarType.Float32);

    /// <summary>
    /// Llama-1B (hidden 2048, 16 layers, 32 heads, 8 key/value heads, FFN 8192, vocab 32000, untied head; about 1.1 B
    /// parameters) as a causal LM; bf16 file (about 2.2 GB).
    /// </summary>
    public static readonly ModelShape Llama1B = new("llama-1b", """
        {"model_type": "llama", "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32,
         "num_key_value_heads": 8, "vocab_size": 32000, "max_position_embeddings": 2048, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
         "hidden_act": "silu", "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16"}
        """, ModelTask.CausalLM, ScalarType.BFloat16);

    /// <summary>
    /// BERT-mini (Turc et al. 2019: hidden 256, 4 layers, 4 heads, FFN 1024, BERT's vocabulary) with a two-label classifier:
    /// each of the adapters, lora and train suites in under a minute with one thread instead of six to nine.
    /// </summary>
    public static readonly ModelShape BertMini = new("bert-mini", """
        {"model_type": "bert", "hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 1024,
         "vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
         "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "pad_token_id": 0, "torch_dtype": "float32",
         "id2label": {"0": "negative", "1": "positive"}}
        """, ModelTask.SequenceClassification, ScalarType.Float32);

    /// <summary>
    /// A toy BERT (hidden 32, 2 layers, 2 heads, FFN 64, vocabulary 1000) for the tests and smoke runs: every suite that
    /// takes --shape runs its full code path in seconds. Its figures say nothing about real models.
    /// </summary>
    public static readonly ModelShape Tiny = new("tiny", """
        {"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
         "vocab_size": 1000, "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
         "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "pad_token_id": 0, "torch_dtype": "float32",
         "id2label": {"0": "negative", "1": "positive"}}
        """, ModelTask.SequenceClassification, ScalarType.Float32);

    /// <summary>The shapes --shape offers (the adapters, lora and train suites); BERT-base is the default.</summary>
    public static readonly IReadOnlyList<ModelShape> Selectable = new[] { BertBase, BertMini, Tiny };

    /// <summary>The selectable shape called <paramref name="name"/> (case-insensitive), or null.</summary>
    public static ModelShape? Find(string name) => Selectable.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    public ModelConfig Config()
    {
        var json = JsonNode.Parse(ConfigJson)!.AsObject();
        string modelType = json["model_type"]!.GetValue<string>();
        return ModelFamilies.ForModelType(modelType, Name).ParseConfig(new ConfigReader(json, $"{Name} benchmark config"));
    }
}

/// <summary>FLOP counts as the benchmarks define them.</summary>
public static class Flops
{
    /// <summary>Weights of every nn.Linear in the model (the head included): each does 2 multiply-adds per weight per token.</summary>
    public static long LinearParameters(nn.Module model) =>
        model.modules().OfType<Linear>().Sum(l => l.weight!.numel());

    /// <summary>
    /// A forward pass over <paramref name="batch"/> sequences of <paramref name="length"/> tokens:
    /// 2 x linear weights x tokens, plus attention's 4 x layers x T^2 x hidden per sequence (QK^T and AV, unmasked).
    /// </summary>
    public static double Forward(long linearParameters, int layers, int hidden, long batch, long length) =>
        2.0 * linearParameters * batch * length + 4.0 * layers * length * length * hidden * batch;

    /// <summary>
    /// One training step of adapters on a frozen base over <paramref name="tokens"/> tokens: the forward pass's
    /// 2 x linear weights x tokens plus the backward pass's gradients with respect to the activations, as many again.
    /// A frozen weight gets no weight gradient (full fine-tuning would add a third 2 x P x tokens), and the adapters' own
    /// multiply-adds (LoRA r8 on q and v: 0.35% of BERT-base's) and attention's QK^T and AV (at 128 tokens about 4% of
    /// BERT-base's) are left out, so the figure is slightly conservative.
    /// </summary>
    public static double FrozenBaseTrainStep(long linearParameters, long tokens) => 4.0 * linearParameters * tokens;

    /// <summary>One decoding step for one new token attending over <paramref name="context"/> positions.</summary>
    public static double DecodeStep(long linearParameters, int layers, int hidden, long batch, long context) =>
        2.0 * linearParameters * batch + 4.0 * layers * context * hidden * batch;
}
