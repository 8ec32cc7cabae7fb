using PeftSharp.Modules;

namespace PeftSharp.Models.Bert;

/// <summary>
/// config.json of BERT (model_type "bert", HF BertConfig) and RoBERTa ("roberta", HF RobertaConfig: the same fields,
/// padding id 1 by default, position ids offset by padding_idx + 1). Absent fields take Hugging Face's defaults.
/// Only absolute position embeddings are supported.
/// </summary>
public sealed class BertConfig : ModelConfig
{
    public BertConfig(ConfigReader reader) : base(reader)
    {
        IsRoberta = ModelType == "roberta";
        VocabSize = reader.Int("vocab_size", 30522);
        HiddenSize = reader.Int("hidden_size", 768);
        NumLayers = reader.Int("num_hidden_layers", 12);
        NumHeads = reader.Int("num_attention_heads", 12);
        IntermediateSize = reader.Int("intermediate_size", 3072);
        HiddenAct = reader.String("hidden_act", "gelu");
        HiddenDropout = reader.Double("hidden_dropout_prob", 0.1);
        AttentionDropout = reader.Double("attention_probs_dropout_prob", 0.1);
        MaxPositions = reader.Int("max_position_embeddings", 512);
        TypeVocabSize = reader.Int("type_vocab_size", 2);
        LayerNormEps = reader.Double("layer_norm_eps", 1e-12);
        PaddingIndex = PadTokenId ?? (IsRoberta ? 1 : 0);
        TieWordEmbeddings = reader.Bool("tie_word_embeddings", true);
        ClassifierDropout = reader.Has("classifier_dropout") ? reader.Double("classifier_dropout") : HiddenDropout;
        string positionType = reader.String("position_embedding_type", "absolute");

        Require(HiddenSize > 0, "hidden_size", $"must be positive, got {HiddenSize}");
        Require(NumLayers > 0, "num_hidden_layers", $"must be positive, got {NumLayers}");
        Require(NumHeads > 0, "num_attention_heads", $"must be positive, got {NumHeads}");
        Require(HiddenSize % NumHeads == 0, "hidden_size", $"{HiddenSize} is not divisible by num_attention_heads {NumHeads}");
        Require(IntermediateSize > 0, "intermediate_size", $"must be positive, got {IntermediateSize}");
        Require(VocabSize > 0, "vocab_size", $"must be positive, got {VocabSize}");
        Require(TypeVocabSize > 0, "type_vocab_size", $"must be positive, got {TypeVocabSize}");
        Require(LayerNormEps > 0, "layer_norm_eps", $"must be positive, got {LayerNormEps}");
        Require(Activations.IsKnown(HiddenAct), "hidden_act", $"unknown activation '{HiddenAct}' (supported: {string.Join(", ", Activations.Names)})");
        Require(positionType == "absolute", "position_embedding_type", $"'{positionType}' is not supported (only absolute; relative_key and relative_key_query are not)");
        Require(PaddingIndex >= 0 && PaddingIndex < VocabSize, "pad_token_id", $"must lie in [0, vocab_size {VocabSize}), got {PaddingIndex}");
        // RoBERTa numbers real tokens from padding_idx + 1, so the table needs padding_idx + 2 rows for even one token.
        int firstPosition = IsRoberta ? PaddingIndex + 1 : 0;
        Require(MaxPositions > firstPosition, "max_position_embeddings", $"must exceed {firstPosition}, got {MaxPositions}");
        Require(!reader.Bool("add_cross_attention", false), "add_cross_attention", "cross-attention (encoder-decoder BERT) is not supported");
    }

    public override int HiddenSize { get; }
    public override int NumLayers { get; }
    public override int NumHeads { get; }
    public override int VocabSize { get; }
    public override int MaxPositions { get; }
    public override bool TieWordEmbeddings { get; }

    /// <summary>True for model_type "roberta".</summary>
    public bool IsRoberta { get; }

    public int IntermediateSize { get; }
    public int HeadDim => HiddenSize / NumHeads;
    public string HiddenAct { get; }
    public double HiddenDropout { get; }
    public double AttentionDropout { get; }

    /// <summary>Dropout before classifiers: "classifier_dropout", else "hidden_dropout_prob".</summary>
    public double ClassifierDropout { get; }

    public int TypeVocabSize { get; }
    public double LayerNormEps { get; }

    /// <summary>pad_token_id (default 0 for BERT, 1 for RoBERTa): the embeddings' padding row.</summary>
    public int PaddingIndex { get; }
}
