using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PeftSharp.Models;
using PeftSharp.Models.Llama;

namespace PeftSharp.IO.Gguf;

/// <summary>
/// How a Llama-architecture GGUF file (general.architecture "llama", as llama.cpp's converters write Llama, Mistral
/// and llama2.c models) maps to Hugging Face's Llama: config.json fields from the metadata, and tensor names.
/// </summary>
public static partial class GgufLlama
{
    const string Architecture = "llama";

    static readonly Dictionary<string, string> GlobalNames = new(StringComparer.Ordinal)
    {
        ["token_embd"] = "model.embed_tokens",
        ["output_norm"] = "model.norm",
        ["output"] = "lm_head",
    };

    static readonly Dictionary<string, string> BlockNames = new(StringComparer.Ordinal)
    {
        ["attn_q"] = "self_attn.q_proj",
        ["attn_k"] = "self_attn.k_proj",
        ["attn_v"] = "self_attn.v_proj",
        ["attn_output"] = "self_attn.o_proj",
        ["ffn_gate"] = "mlp.gate_proj",
        ["ffn_up"] = "mlp.up_proj",
        ["ffn_down"] = "mlp.down_proj",
        ["attn_norm"] = "input_layernorm",
        ["ffn_norm"] = "post_attention_layernorm",
        // Old converters stored the rotary inverse frequencies; Hugging Face checkpoints skip them on load too.
        ["attn_rot_embd"] = "self_attn.rotary_emb.inv_freq",
    };

    [GeneratedRegex(@"^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$")]
    private static partial Regex BlockTensor();

    /// <summary>
    /// The Hugging Face key of a GGUF tensor name, e.g. "blk.3.attn_q.weight" -> "model.layers.3.self_attn.q_proj.weight";
    /// null when the name has no Hugging Face Llama equivalent.
    /// </summary>
    public static string? HuggingFaceName(string ggufName)
    {
        if (BlockTensor().Match(ggufName) is { Success: true } match)
            return BlockNames.TryGetValue(match.Groups[2].Value, out string? module)
                ? $"model.layers.{match.Groups[1].Value}.{module}.{match.Groups[3].Value}"
                : null;
        int dot = ggufName.LastIndexOf('.');
        if (dot < 0 || ggufName[(dot + 1)..] is not ("weight" or "bias")) return null;
        return GlobalNames.TryGetValue(ggufName[..dot], out string? name) ? $"{name}{ggufName[dot..]}" : null;
    }

    /// <summary>
    /// The Hugging Face config.json a Llama GGUF corresponds to: model_type "llama", LlamaForCausalLM, sizes from the
    /// llama.* metadata, vocab_size from token_embd, tie_word_embeddings when output.weight is absent, special token
    /// ids from tokenizer.ggml.*, and torch_dtype from the stored weights.
    /// </summary>
    /// <exception cref="CheckpointFormatException">Not a Llama GGUF, or metadata missing or of the wrong type.</exception>
    public static JsonObject ConfigJson(GgufFile file)
    {
        var m = file.Metadata;
        string architecture = m.String("general.architecture");
        if (architecture != Architecture)
            throw new CheckpointFormatException(file.Path,
                $"metadata 'general.architecture' is '{architecture}'; PeftSharp maps only '{Architecture}' GGUF files to a Hugging Face model");
        if (m.Contains("llama.expert_count") && m.Integer("llama.expert_count") > 0)
            throw new CheckpointFormatException(file.Path, "metadata 'llama.expert_count': mixture-of-experts Llama GGUF files are not supported");
        const string embedding = "token_embd.weight";
        if (!file.Contains(embedding)) throw new CheckpointFormatException(file.Path, "is missing; a Llama GGUF needs its token embeddings", embedding);
        var embeddingInfo = file[embedding];
        if (embeddingInfo.Dimensions.Length != 2)
            throw new CheckpointFormatException(file.Path, $"has {embeddingInfo.Dimensions.Length} dimensions; token embeddings are [vocab, hidden]", embedding);

        int hidden = m.Int32("llama.embedding_length", 1);
        int heads = m.Int32("llama.attention.head_count", 1);
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["hidden_size"] = hidden,
            ["intermediate_size"] = m.Int32("llama.feed_forward_length", 1),
            ["num_hidden_layers"] = m.Int32("llama.block_count", 1),
            ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = m.Contains("llama.attention.head_count_kv") ? m.Int32("llama.attention.head_count_kv", 1) : heads,
            ["rms_norm_eps"] = m.Double("llama.attention.layer_norm_rms_epsilon"),
            ["rope_theta"] = m.DoubleOrNull("llama.rope.freq_base") ?? 10000.0,
            ["max_position_embeddings"] = m.Contains("llama.context_length") ? m.Int32("llama.context_length", 1) : 2048,
            ["vocab_size"] = (int)embeddingInfo.Dimensions[1],
            ["hidden_act"] = "silu",
            ["tie_word_embeddings"] = !file.Contains("output.weight"),
            ["attention_bias"] = file.Contains("blk.0.attn_q.bias"),
            ["torch_dtype"] = TorchDType(file),
        };
        AddHeadDim(file, json, hidden, heads);
        AddRopeScaling(file, json);
        int vocab = (int)embeddingInfo.Dimensions[1];
        foreach (var (key, field) in new[] { ("bos_token_id", "bos_token_id"), ("eos_token_id", "eos_token_id"), ("padding_token_id", "pad_token_id") })
            if (GgufTokenizer.TokenId(m, $"tokenizer.ggml.{key}", vocab) is int id) json[field] = id;
        return json;
    }

    /// <summary>The parsed <see cref="LlamaConfig"/> of a Llama GGUF (its source is the GGUF path).</summary>
    public static LlamaConfig Config(GgufFile file) => new(new ConfigReader(ConfigJson(file), file.Path));

    /// <summary>llama.attention.key_length overrides hidden/heads; a partial rotary dimension is not a Llama model.</summary>
    static void AddHeadDim(GgufFile file, JsonObject json, int hidden, int heads)
    {
        var m = file.Metadata;
        int headDim = m.Contains("llama.attention.key_length") ? m.Int32("llama.attention.key_length", 1) : hidden / heads;
        if (m.Contains("llama.attention.value_length") && m.Int32("llama.attention.value_length", 1) != headDim)
            throw new CheckpointFormatException(file.Path, $"metadata 'llama.attention.value_length' differs from the key length {headDim}; Llama needs them equal");
        if (m.Contains("llama.rope.dimension_count") && m.Int32("llama.rope.dimension_count", 1) != headDim)
            throw new CheckpointFormatException(file.Path,
                $"metadata 'llama.rope.dimension_count' is {m.Integer("llama.rope.dimension_count")}, not the head size {headDim}; partial rotary embeddings are not Llama's");
        if (m.Contains("llama.attention.key_length")) json["head_dim"] = headDim;
    }

    static void AddRopeScaling(GgufFile file, JsonObject json)
    {
        var m = file.Metadata;
        string type = m.StringOrNull("llama.rope.scaling.type") ?? "none";
        double factor = m.DoubleOrNull("llama.rope.scaling.factor") ?? m.DoubleOrNull("llama.rope.scale_linear") ?? 1.0;
        if (type == "none" && factor != 1.0) type = "linear";
        switch (type)
        {
            case "none":
                return;
            case "linear":
                json["rope_scaling"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = factor };
                return;
            default:
                throw new CheckpointFormatException(file.Path, $"metadata 'llama.rope.scaling.type' is '{type}'; only linear rope scaling is supported");
        }
    }

    /// <summary>bfloat16 or float16 when every matrix is stored so, else float32 (also for quantised files).</summary>
    static string TorchDType(GgufFile file)
    {
        var types = file.Tensors.Where(t => t.Dimensions.Length == 2).Select(t => t.Type).Distinct().ToList();
        return types switch
        {
            [GgufTensorType.BF16] => "bfloat16",
            [GgufTensorType.F16] => "float16",
            _ => "float32",
        };
    }
}
