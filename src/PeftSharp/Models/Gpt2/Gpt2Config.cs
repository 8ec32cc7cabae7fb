using PeftSharp.Modules;

namespace PeftSharp.Models.Gpt2;

/// <summary>
/// config.json of GPT-2 (HF GPT2Config). Its own field names (n_embd, n_layer, n_head, n_inner, n_positions,
/// activation_function, layer_norm_epsilon) are read first, then the generic aliases Hugging Face maps onto them
/// (hidden_size, num_hidden_layers, ...); absent fields take Hugging Face's defaults (the 124M "gpt2").
/// </summary>
public sealed class Gpt2Config : ModelConfig
{
    public Gpt2Config(ConfigReader reader) : base(reader)
    {
        VocabSize = reader.Int("vocab_size", 50257);
        MaxPositions = reader.Int("n_positions", reader.Int("max_position_embeddings", 1024));
        HiddenSize = reader.Int("n_embd", reader.Int("hidden_size", 768));
        NumLayers = reader.Int("n_layer", reader.Int("num_hidden_layers", 12));
        NumHeads = reader.Int("n_head", reader.Int("num_attention_heads", 12));
        InnerSize = reader.IntOrNull("n_inner") ?? 4 * HiddenSize;
        Activation = reader.String("activation_function", "gelu_new");
        ResidualDropout = reader.Double("resid_pdrop", 0.1);
        EmbeddingDropout = reader.Double("embd_pdrop", 0.1);
        AttentionDropout = reader.Double("attn_pdrop", 0.1);
        LayerNormEps = reader.Double("layer_norm_epsilon", 1e-5);
        ScaleAttentionWeights = reader.Bool("scale_attn_weights", true);
        ScaleAttentionByInverseLayerIndex = reader.Bool("scale_attn_by_inverse_layer_idx", false);
        TieWordEmbeddings = reader.Bool("tie_word_embeddings", true);
        // GPT2ForTokenClassification: classifier_dropout, else hidden_dropout, else 0.1.
        ClassifierDropout = reader.Has("classifier_dropout") ? reader.Double("classifier_dropout") : reader.Double("hidden_dropout", 0.1);

        Require(HiddenSize > 0, "n_embd", $"must be positive, got {HiddenSize}");
        Require(NumLayers > 0, "n_layer", $"must be positive, got {NumLayers}");
        Require(NumHeads > 0, "n_head", $"must be positive, got {NumHeads}");
        Require(HiddenSize % NumHeads == 0, "n_embd", $"{HiddenSize} is not divisible by n_head {NumHeads}");
        Require(InnerSize > 0, "n_inner", $"must be positive, got {InnerSize}");
        Require(VocabSize > 0, "vocab_size", $"must be positive, got {VocabSize}");
        Require(MaxPositions > 0, "n_positions", $"must be positive, got {MaxPositions}");
        Require(LayerNormEps > 0, "layer_norm_epsilon", $"must be positive, got {LayerNormEps}");
        Require(Activations.IsKnown(Activation), "activation_function", $"unknown activation '{Activation}' (supported: {string.Join(", ", Activations.Names)})");
        // Upcasting and reordering only changes fp16 numerics in Hugging Face; silently ignoring it would not match.
        Require(!reader.Bool("reorder_and_upcast_attn", false), "reorder_and_upcast_attn", "true is not supported (only false)");
        Require(!reader.Bool("add_cross_attention", false), "add_cross_attention", "cross-attention (encoder-decoder GPT-2) is not supported");
    }

    public override int HiddenSize { get; }
    public override int NumLayers { get; }
    public override int NumHeads { get; }
    public override int VocabSize { get; }
    public override int MaxPositions { get; }
    public override bool TieWordEmbeddings { get; }

    /// <summary>Feed-forward width ("n_inner", default 4 * n_embd).</summary>
    public int InnerSize { get; }

    public int HeadDim => HiddenSize / NumHeads;

    /// <summary>"activation_function" (gelu_new: the tanh approximation).</summary>
    public string Activation { get; }

    public double ResidualDropout { get; }
    public double EmbeddingDropout { get; }
    public double AttentionDropout { get; }
    public double ClassifierDropout { get; }
    public double LayerNormEps { get; }

    /// <summary>Divide attention scores by sqrt(head_dim) ("scale_attn_weights").</summary>
    public bool ScaleAttentionWeights { get; }

    /// <summary>Also divide the scores of layer i by i + 1 ("scale_attn_by_inverse_layer_idx").</summary>
    public bool ScaleAttentionByInverseLayerIndex { get; }
}
