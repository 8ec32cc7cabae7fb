using System.Text.Json.Nodes;
using PeftSharp.Models;

namespace PeftSharp.Tuners.Prompts;

/// <summary>
/// P-tuning (Liu et al. 2021, "GPT Understands, Too"): virtual-token embeddings produced by a prompt encoder (an MLP,
/// or a bidirectional LSTM and an MLP) from learned inputs, prepended to the input embeddings. adapter_config.json with
/// peft_type "P_TUNING" and the fields of PEFT's PromptEncoderConfig; the file holds the encoder's output.
/// </summary>
public sealed record PTuningConfig : PromptLearningConfig
{
    public override string PeftType => "P_TUNING";

    /// <summary>PEFT "encoder_reparameterization_type".</summary>
    public PromptEncoderReparameterization EncoderReparameterizationType { get; init; } = PromptEncoderReparameterization.Mlp;

    /// <summary>PEFT "encoder_hidden_size": hidden width of the prompt encoder. Null: token_dim.</summary>
    public int? EncoderHiddenSize { get; init; }

    /// <summary>PEFT "encoder_num_layers": LSTM layers (the MLP always has PEFT's three linear layers).</summary>
    public int EncoderNumLayers { get; init; } = 2;

    /// <summary>PEFT "encoder_dropout": dropout between LSTM layers while training.</summary>
    public double EncoderDropout { get; init; }

    protected override void Validate(string source)
    {
        base.Validate(source);
        if (EncoderHiddenSize is <= 0) throw new ConfigException(source, "encoder_hidden_size", $"must be positive, got {EncoderHiddenSize}");
        if (EncoderNumLayers <= 0) throw new ConfigException(source, "encoder_num_layers", $"must be positive, got {EncoderNumLayers}");
        if (EncoderDropout is < 0 or >= 1) throw new ConfigException(source, "encoder_dropout", $"must be in [0, 1), got {EncoderDropout}");
    }

    protected internal override (int TokenDim, int Heads) ModelDimensions(TransformerModel model) => (model.Config.HiddenSize, model.Config.NumHeads);

    public override PromptLearningConfig Resolve(TransformerModel model)
    {
        var resolved = (PTuningConfig)base.Resolve(model);
        return resolved with { EncoderHiddenSize = resolved.EncoderHiddenSize ?? resolved.TokenDim };
    }

    protected override void WriteMethodFields(JsonObject json)
    {
        json["encoder_reparameterization_type"] = EncoderReparameterizationType == PromptEncoderReparameterization.Lstm ? "LSTM" : "MLP";
        json["encoder_hidden_size"] = EncoderHiddenSize;
        json["encoder_num_layers"] = EncoderNumLayers;
        json["encoder_dropout"] = EncoderDropout;
    }

    static readonly string[] MethodFields = { "encoder_reparameterization_type", "encoder_hidden_size", "encoder_num_layers", "encoder_dropout" };

    /// <summary>Reads adapter_config.json content.</summary>
    public static PTuningConfig Read(ConfigReader reader)
    {
        string type = reader.String("encoder_reparameterization_type", "MLP");
        return ReadShared(reader, new PTuningConfig
        {
            NumVirtualTokens = reader.Int("num_virtual_tokens"),
            EncoderReparameterizationType = type switch
            {
                "MLP" => PromptEncoderReparameterization.Mlp,
                "LSTM" => PromptEncoderReparameterization.Lstm,
                _ => throw new ConfigException(reader.Source, "encoder_reparameterization_type", $"must be MLP or LSTM, got '{type}'"),
            },
            EncoderHiddenSize = reader.IntOrNull("encoder_hidden_size"),
            EncoderNumLayers = reader.Int("encoder_num_layers", 2),
            EncoderDropout = reader.Double("encoder_dropout", 0),
        }, MethodFields);
    }
}
