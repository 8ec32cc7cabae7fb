using PeftSharp.Modules;

namespace PeftSharp.Models.Llama;

/// <summary>
/// config.json of Llama-architecture decoders: Llama, Mistral (sliding-window attention) and Qwen2
/// (biased q/k/v projections). Field names are Hugging Face's.
/// </summary>
public sealed class LlamaConfig : ModelConfig
{
    public LlamaConfig(ConfigReader reader) : base(reader)
    {
        HiddenSize = reader.Int("hidden_size");
        IntermediateSize = reader.Int("intermediate_size");
        NumLayers = reader.Int("num_hidden_layers");
        NumHeads = reader.Int("num_attention_heads");
        NumKeyValueHeads = reader.Int("num_key_value_heads", NumHeads);
        VocabSize = reader.Int("vocab_size");
        MaxPositions = reader.Int("max_position_embeddings", 2048);
        RmsNormEps = reader.Double("rms_norm_eps", 1e-6);
        RopeTheta = reader.Double("rope_theta", 10000.0);
        HiddenAct = reader.String("hidden_act", "silu");
        bool isQwen2 = ModelType == "qwen2";
        TieWordEmbeddings = reader.Bool("tie_word_embeddings", false);
        AttentionBias = isQwen2 || reader.Bool("attention_bias", false);
        OutputBias = !isQwen2 && reader.Bool("attention_bias", false);
        MlpBias = reader.Bool("mlp_bias", false);
        AttentionDropout = reader.Double("attention_dropout", 0.0);
        HeadDim = reader.Int("head_dim", NumHeads > 0 ? HiddenSize / NumHeads : 0);
        bool windowed = ModelType == "mistral" || (isQwen2 && reader.Bool("use_sliding_window", false));
        SlidingWindow = windowed ? reader.IntOrNull("sliding_window") : null;
        RopeScaling = ReadRopeScaling(reader);

        Require(HiddenSize > 0, "hidden_size", $"must be positive, got {HiddenSize}");
        Require(NumLayers > 0, "num_hidden_layers", $"must be positive, got {NumLayers}");
        Require(NumHeads > 0, "num_attention_heads", $"must be positive, got {NumHeads}");
        Require(NumKeyValueHeads > 0 && NumHeads % NumKeyValueHeads == 0, "num_key_value_heads",
            $"must divide num_attention_heads ({NumHeads}), got {NumKeyValueHeads}");
        Require(HeadDim > 0 && HeadDim % 2 == 0, "head_dim", $"must be a positive even number, got {HeadDim}");
        Require(reader.Has("head_dim") || HiddenSize % NumHeads == 0, "hidden_size", $"{HiddenSize} is not divisible by num_attention_heads {NumHeads}");
        Require(VocabSize > 0, "vocab_size", $"must be positive, got {VocabSize}");
        Require(Activations.IsKnown(HiddenAct), "hidden_act", $"unknown activation '{HiddenAct}' (supported: {string.Join(", ", Activations.Names)})");
    }

    public override int HiddenSize { get; }
    public int IntermediateSize { get; }
    public override int NumLayers { get; }
    public override int NumHeads { get; }
    public int NumKeyValueHeads { get; }
    public int HeadDim { get; }
    public override int VocabSize { get; }
    public override int MaxPositions { get; }
    public double RmsNormEps { get; }
    public double RopeTheta { get; }
    public RopeScaling? RopeScaling { get; }
    public string HiddenAct { get; }
    public override bool TieWordEmbeddings { get; }

    /// <summary>Bias on q/k/v projections (Qwen2 always; Llama when "attention_bias").</summary>
    public bool AttentionBias { get; }

    /// <summary>Bias on o_proj (Llama's "attention_bias"; never in Qwen2).</summary>
    public bool OutputBias { get; }

    public bool MlpBias { get; }
    public double AttentionDropout { get; }

    /// <summary>Mistral's attention window, or null for full causal attention.</summary>
    public int? SlidingWindow { get; }

    RopeScaling? ReadRopeScaling(ConfigReader reader)
    {
        var scaling = reader.ObjectOrNull("rope_scaling");
        if (scaling is null) return null;
        string type = scaling.StringOrNull("rope_type") ?? scaling.String("type");
        if (type == "default") return null;
        Require(RopeScaling.SupportedTypes.Contains(type), "rope_scaling",
            $"type '{type}' is not supported (supported: {string.Join(", ", RopeScaling.SupportedTypes)})");
        return new RopeScaling(type, scaling.Double("factor"),
            scaling.Double("low_freq_factor", 1), scaling.Double("high_freq_factor", 4),
            scaling.Int("original_max_position_embeddings", 8192));
    }
}
