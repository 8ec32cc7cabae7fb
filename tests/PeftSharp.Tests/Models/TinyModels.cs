using System.Text.Json.Nodes;
using PeftSharp.Models;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Models;

/// <summary>
/// Tiny configs of every supported model type, in Hugging Face's config.json form, and random checkpoints made
/// from them. Adding a family means adding its configs here; the model test matrix then covers it.
/// </summary>
public static class TinyModels
{
    /// <summary>config.json text of a tiny model of each model_type.</summary>
    public static readonly IReadOnlyDictionary<string, string> Configs = new Dictionary<string, string>
    {
        ["llama"] = """
            {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 2, "vocab_size": 64, "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
             "hidden_act": "silu", "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2}
            """,
        ["mistral"] = """
            {"model_type": "mistral", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 1, "vocab_size": 64, "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
             "hidden_act": "silu", "sliding_window": 5, "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2}
            """,
        ["qwen2"] = """
            {"model_type": "qwen2", "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 2, "vocab_size": 64, "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
             "hidden_act": "silu", "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": 2}
            """,
        ["gpt2"] = """
            {"model_type": "gpt2", "n_embd": 32, "n_layer": 2, "n_head": 4, "n_inner": null, "vocab_size": 64, "n_positions": 64,
             "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "resid_pdrop": 0.1, "embd_pdrop": 0.1, "attn_pdrop": 0.1,
             "scale_attn_weights": true, "bos_token_id": 1, "eos_token_id": 2}
            """,
        ["bert"] = """
            {"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 48,
             "vocab_size": 64, "max_position_embeddings": 64, "type_vocab_size": 2, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
             "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "pad_token_id": 0, "position_embedding_type": "absolute"}
            """,
        ["roberta"] = """
            {"model_type": "roberta", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 48,
             "vocab_size": 64, "max_position_embeddings": 66, "type_vocab_size": 1, "hidden_act": "gelu", "layer_norm_eps": 1e-5,
             "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2}
            """,
        ["distilbert"] = """
            {"model_type": "distilbert", "dim": 32, "n_layers": 2, "n_heads": 4, "hidden_dim": 48, "vocab_size": 64,
             "max_position_embeddings": 64, "activation": "gelu", "dropout": 0.1, "attention_dropout": 0.1,
             "seq_classif_dropout": 0.2, "sinusoidal_pos_embds": false, "pad_token_id": 0}
            """,
    };

    /// <summary>Every (model_type, task) pair the families offer.</summary>
    public static IEnumerable<object[]> Cases() =>
        Configs.Keys.SelectMany(type => Family(type).Tasks.Select(task => new object[] { type, task }));

    /// <summary>(model_type, task) pairs of causal language models.</summary>
    public static IEnumerable<object[]> CausalCases() => Cases().Where(c => (ModelTask)c[1] == ModelTask.CausalLM);

    public static ModelFamily Family(string modelType) => ModelFamilies.ForModelType(modelType, "test");

    /// <summary>The parsed tiny config of a model_type (three labels for classification heads).</summary>
    public static ModelConfig Config(string modelType)
    {
        var json = JsonNode.Parse(Configs[modelType])!.AsObject();
        json["id2label"] = new JsonObject { ["0"] = "neg", ["1"] = "neu", ["2"] = "pos" };
        return Family(modelType).ParseConfig(new ConfigReader(json, $"tiny {modelType} config"));
    }

    /// <summary>A randomly initialised tiny model.</summary>
    public static TransformerModel Create(string modelType, ModelTask task, ScalarType dtype = ScalarType.Float32, long seed = 7) =>
        AutoModel.Create(Config(modelType), task, dtype, seed);

    /// <summary>Writes a random tiny model to <paramref name="directory"/> (sharded into several files if asked) and returns it.</summary>
    public static TransformerModel WriteCheckpoint(string modelType, ModelTask task, string directory, ScalarType dtype = ScalarType.Float32, bool sharded = false)
    {
        var model = Create(modelType, task, dtype);
        ModelSaver.Save(model, directory, sharded ? 16 * 1024 : ModelSaver.DefaultMaxShardBytes);
        return model;
    }

    /// <summary>Token ids [B, T] in the tiny vocabulary, avoiding ids 0-2 (pad/BOS/EOS).</summary>
    public static Tensor RandomIds(long batch, long length, long seed = 3)
    {
        var generator = new Generator((ulong)seed);
        return randint(3, 60, new[] { batch, length }, ScalarType.Int64, generator: generator);
    }
}
