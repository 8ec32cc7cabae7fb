using System.Text.Json.Nodes;
using PeftSharp.Models;

namespace PeftSharp.Tuners.Prompts;

/// <summary>
/// Prefix tuning (Li and Liang 2021) and P-tuning v2 (Liu et al. 2022, the same deep prompts used for classification and
/// token classification with encoders): learned key/value prefixes for every layer's attention, optionally produced by
/// an MLP (Embedding -> Linear -> tanh -> Linear) that is folded away after training. adapter_config.json with peft_type
/// "PREFIX_TUNING" and PEFT's fields. Under grouped-query attention a prefix is given per key/value head, so
/// token_dim = kv_heads x head_dim and num_attention_heads = kv_heads, as PEFT sets them.
/// </summary>
public sealed record PrefixTuningConfig : PromptLearningConfig
{
    public override string PeftType => "PREFIX_TUNING";

    /// <summary>PEFT "prefix_projection": train the prefixes through the MLP reparameterisation.</summary>
    public bool PrefixProjection { get; init; }

    /// <summary>PEFT "encoder_hidden_size": hidden width of the MLP. Null: token_dim.</summary>
    public int? EncoderHiddenSize { get; init; }

    /// <summary>PEFT "init_weights": null (random, as nn.Embedding / nn.Linear start) or "zero" (prefix or last MLP layer zero).</summary>
    public string? InitWeights { get; init; }

    /// <summary>P-tuning v2 as its paper sets it up: deep prompts without reparameterisation, for encoders' classification heads.</summary>
    public static PrefixTuningConfig PTuningV2(int numVirtualTokens, string? taskType = null) =>
        new() { NumVirtualTokens = numVirtualTokens, TaskType = taskType };

    protected override void Validate(string source)
    {
        base.Validate(source);
        if (EncoderHiddenSize is <= 0) throw new ConfigException(source, "encoder_hidden_size", $"must be positive, got {EncoderHiddenSize}");
        if (InitWeights is not (null or "zero")) throw new ConfigException(source, "init_weights", $"must be null or \"zero\", got '{InitWeights}'");
    }

    protected internal override (int TokenDim, int Heads) ModelDimensions(TransformerModel model)
    {
        var (kvHeads, headDim) = model.KeyValueShape;
        return (kvHeads * headDim, kvHeads);
    }

    public override PromptLearningConfig Resolve(TransformerModel model)
    {
        var resolved = (PrefixTuningConfig)base.Resolve(model);
        return resolved with { EncoderHiddenSize = resolved.EncoderHiddenSize ?? resolved.TokenDim };
    }

    /// <summary>The prefix must be shaped as the model's attention reads its cache: layers x (key, value) x kv_heads x head_dim.</summary>
    protected override void CheckAgainst(TransformerModel model, int dim, int heads)
    {
        var (kvHeads, headDim) = model.KeyValueShape;
        string has = $"{model.Architecture} has {model.LayerCount} layers of {kvHeads} key/value heads x {headDim} (KeyValueShape)";
        if (NumLayers != model.LayerCount)
            throw new ConfigException($"{PeftType} config", "num_layers", $"the prefix is for {NumLayers} layers, but {has}");
        if (NumAttentionHeads != kvHeads || TokenDim != dim)
            throw new ConfigException($"{PeftType} config", NumAttentionHeads != kvHeads ? "num_attention_heads" : "token_dim",
                $"the prefix has {NumAttentionHeads} heads x {TokenDim / NumAttentionHeads} (token_dim {TokenDim}), but {has}");
    }

    /// <summary>Width of one virtual token's prefix over all layers: num_layers x 2 x token_dim.</summary>
    public int PrefixWidth => (NumLayers ?? throw new InvalidOperationException("resolve the config against a model first")) * 2 *
                              (TokenDim ?? throw new InvalidOperationException("resolve the config against a model first"));

    protected override void WriteMethodFields(JsonObject json)
    {
        json["prefix_projection"] = PrefixProjection;
        json["encoder_hidden_size"] = EncoderHiddenSize;
        if (InitWeights is not null) json["init_weights"] = InitWeights;
    }

    static readonly string[] MethodFields = { "prefix_projection", "encoder_hidden_size", "init_weights" };

    /// <summary>Reads adapter_config.json content.</summary>
    public static PrefixTuningConfig Read(ConfigReader reader) => ReadShared(reader, new PrefixTuningConfig
    {
        NumVirtualTokens = reader.Int("num_virtual_tokens"),
        PrefixProjection = reader.Bool("prefix_projection", false),
        EncoderHiddenSize = reader.IntOrNull("encoder_hidden_size"),
        InitWeights = reader.StringOrNull("init_weights"),
    }, MethodFields);
}
