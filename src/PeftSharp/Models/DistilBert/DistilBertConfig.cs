using PeftSharp.Modules;

namespace PeftSharp.Models.DistilBert;

/// <summary>
/// config.json of DistilBERT (HF DistilBertConfig). Its own field names (dim, n_layers, n_heads, hidden_dim,
/// activation) are read first, then the generic aliases Hugging Face maps onto them (hidden_size, ...); absent
/// fields take Hugging Face's defaults (distilbert-base-uncased). LayerNorm eps is fixed at 1e-12, as in Hugging Face.
/// </summary>
public sealed class DistilBertConfig : ModelConfig
{
    /// <summary>DistilBERT's LayerNorms use this epsilon whatever the config says.</summary>
    public const double LayerNormEps = 1e-12;

    public DistilBertConfig(ConfigReader reader) : base(reader)
    {
        VocabSize = reader.Int("vocab_size", 30522);
        MaxPositions = reader.Int("max_position_embeddings", 512);
        HiddenSize = reader.Int("dim", reader.Int("hidden_size", 768));
        NumLayers = reader.Int("n_layers", reader.Int("num_hidden_layers", 6));
        NumHeads = reader.Int("n_heads", reader.Int("num_attention_heads", 12));
        FeedForwardSize = reader.Int("hidden_dim", 3072);
        Activation = reader.String("activation", "gelu");
        Dropout = reader.Double("dropout", 0.1);
        AttentionDropout = reader.Double("attention_dropout", 0.1);
        SequenceClassifierDropout = reader.Double("seq_classif_dropout", 0.2);
        SinusoidalPositions = reader.Bool("sinusoidal_pos_embds", false);
        PaddingIndex = PadTokenId ?? 0;
        TieWordEmbeddings = reader.Bool("tie_word_embeddings", true);

        Require(HiddenSize > 0, "dim", $"must be positive, got {HiddenSize}");
        Require(NumLayers > 0, "n_layers", $"must be positive, got {NumLayers}");
        Require(NumHeads > 0, "n_heads", $"must be positive, got {NumHeads}");
        Require(HiddenSize % NumHeads == 0, "dim", $"{HiddenSize} is not divisible by n_heads {NumHeads}");
        Require(FeedForwardSize > 0, "hidden_dim", $"must be positive, got {FeedForwardSize}");
        Require(VocabSize > 0, "vocab_size", $"must be positive, got {VocabSize}");
        Require(MaxPositions > 0, "max_position_embeddings", $"must be positive, got {MaxPositions}");
        Require(PaddingIndex >= 0 && PaddingIndex < VocabSize, "pad_token_id", $"must lie in [0, vocab_size {VocabSize}), got {PaddingIndex}");
        Require(Activations.IsKnown(Activation), "activation", $"unknown activation '{Activation}' (supported: {string.Join(", ", Activations.Names)})");
        Require(!SinusoidalPositions || HiddenSize % 2 == 0, "sinusoidal_pos_embds", $"sinusoidal positions need an even dim, got {HiddenSize}");
    }

    public override int HiddenSize { get; }
    public override int NumLayers { get; }
    public override int NumHeads { get; }
    public override int VocabSize { get; }
    public override int MaxPositions { get; }
    public override bool TieWordEmbeddings { get; }

    public int HeadDim => HiddenSize / NumHeads;

    /// <summary>Feed-forward width ("hidden_dim").</summary>
    public int FeedForwardSize { get; }

    /// <summary>"activation" of the feed-forward and of the masked-LM transform.</summary>
    public string Activation { get; }

    public double Dropout { get; }
    public double AttentionDropout { get; }

    /// <summary>Dropout of the sequence classifier ("seq_classif_dropout").</summary>
    public double SequenceClassifierDropout { get; }

    /// <summary>Position embeddings fixed to sinusoids and frozen ("sinusoidal_pos_embds").</summary>
    public bool SinusoidalPositions { get; }

    /// <summary>pad_token_id (default 0): the word embeddings' padding row.</summary>
    public int PaddingIndex { get; }
}
