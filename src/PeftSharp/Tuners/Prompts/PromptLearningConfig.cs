using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Tuners.Common;

namespace PeftSharp.Tuners.Prompts;

/// <summary>
/// Fields every prompt-learning method shares (PEFT's PromptLearningConfig): how many virtual tokens, and the model
/// dimensions they are shaped for. Dimensions left null are filled from the model when the adapter is attached, as
/// PEFT's _prepare_prompt_learning_config does, and saved filled in.
/// </summary>
public abstract record PromptLearningConfig : PeftConfig, IModelKeyPrefix
{
    /// <summary>PEFT "num_virtual_tokens": learned positions put ahead of the input (virtual tokens or prefix length).</summary>
    public required int NumVirtualTokens { get; init; }

    /// <summary>
    /// PEFT "token_dim": width of one virtual token: the hidden size, or for prefix tuning key/value heads x head size
    /// (smaller than the hidden size under grouped-query attention). Null: from the model.
    /// </summary>
    public int? TokenDim { get; init; }

    /// <summary>PEFT "num_transformer_submodules": 1 (2 is for encoder-decoder models, which PeftSharp does not have). Null: 1.</summary>
    public int? NumTransformerSubmodules { get; init; }

    /// <summary>PEFT "num_attention_heads": attention heads (for prefix tuning: key/value heads). Null: from the model.</summary>
    public int? NumAttentionHeads { get; init; }

    /// <summary>PEFT "num_layers": transformer blocks. Null: from the model.</summary>
    public int? NumLayers { get; init; }

    /// <summary>PEFT saves prompt-learning models without a tuner wrapper, so modules_to_save keys read "base_model.&lt;path&gt;".</summary>
    string IModelKeyPrefix.ModelKeyPrefix => "base_model.";

    /// <summary>Positions of the model's context the method takes before the caller's tokens.</summary>
    public int PositionsUsed => NumVirtualTokens;

    /// <summary>Adapters loaded from a file are built in their saved (folded) form: the file holds the encoder's output.</summary>
    public override PeftConfig ForLoading() => this with { InferenceMode = true };

    public override void Validate() => Validate($"{PeftType} config");

    /// <summary>Checks option values; <paramref name="source"/> names the file or object in errors.</summary>
    protected virtual void Validate(string source)
    {
        if (NumVirtualTokens <= 0) throw new ConfigException(source, "num_virtual_tokens", $"must be positive, got {NumVirtualTokens}");
        if (NumTransformerSubmodules is { } sub and not 1)
            throw new ConfigException(source, "num_transformer_submodules", $"must be 1 (2 is for encoder-decoder models, which PeftSharp does not have), got {sub}");
        if (TokenDim is <= 0) throw new ConfigException(source, "token_dim", $"must be positive, got {TokenDim}");
        if (NumAttentionHeads is <= 0) throw new ConfigException(source, "num_attention_heads", $"must be positive, got {NumAttentionHeads}");
        if (NumLayers is <= 0) throw new ConfigException(source, "num_layers", $"must be positive, got {NumLayers}");
        if (TokenDim is int dim && NumAttentionHeads is int heads && dim % heads != 0)
            throw new ConfigException(source, "token_dim", $"{dim} is not divisible by num_attention_heads {heads}");
    }

    /// <summary>Width and head count a virtual token has in <paramref name="model"/> (hidden size and heads; prefix tuning: key/value sizes).</summary>
    protected internal abstract (int TokenDim, int Heads) ModelDimensions(TransformerModel model);

    /// <summary>The config with null dimensions filled from <paramref name="model"/>, checked against it.</summary>
    /// <exception cref="ConfigException">A given dimension disagrees with the model (the message names both).</exception>
    public virtual PromptLearningConfig Resolve(TransformerModel model)
    {
        var (dim, heads) = ModelDimensions(model);
        var resolved = this with
        {
            TokenDim = TokenDim ?? dim,
            NumAttentionHeads = NumAttentionHeads ?? heads,
            NumLayers = NumLayers ?? model.LayerCount,
            NumTransformerSubmodules = NumTransformerSubmodules ?? 1,
            TaskType = TaskType ?? TaskTypeOf(model.Task),
        };
        resolved.Validate();
        resolved.CheckAgainst(model, dim, heads);
        return resolved;
    }

    /// <summary>Fails when the resolved dimensions do not fit the model.</summary>
    protected virtual void CheckAgainst(TransformerModel model, int dim, int heads)
    {
        if (TokenDim != dim)
            throw new ConfigException($"{PeftType} config", "token_dim", $"{TokenDim}, but {model.Architecture}'s token embeddings are {dim} wide");
    }

    protected override void WriteFields(JsonObject json)
    {
        json["num_virtual_tokens"] = NumVirtualTokens;
        json["token_dim"] = TokenDim;
        json["num_transformer_submodules"] = NumTransformerSubmodules;
        json["num_attention_heads"] = NumAttentionHeads;
        json["num_layers"] = NumLayers;
        json["auto_mapping"] = null;
        WriteMethodFields(json);
    }

    /// <summary>Adds the method's own fields.</summary>
    protected abstract void WriteMethodFields(JsonObject json);

    /// <summary>Fields every prompt-learning config shares, by their JSON names.</summary>
    protected static readonly string[] SharedFields = { "num_virtual_tokens", "token_dim", "num_transformer_submodules", "num_attention_heads", "num_layers" };

    /// <summary>Reads the shared fields into <paramref name="config"/> (made by the method's reader with its own fields).</summary>
    protected static T ReadShared<T>(ConfigReader reader, T config, IEnumerable<string> methodFields) where T : PromptLearningConfig
    {
        var (task, baseModel, inference, modulesToSave) = ReadCommon(reader);
        var read = config with
        {
            TaskType = task,
            BaseModelNameOrPath = baseModel,
            InferenceMode = inference,
            ModulesToSave = modulesToSave,
            TokenDim = reader.IntOrNull("token_dim"),
            NumTransformerSubmodules = reader.IntOrNull("num_transformer_submodules"),
            NumAttentionHeads = reader.IntOrNull("num_attention_heads"),
            NumLayers = reader.IntOrNull("num_layers"),
            IgnoredFields = Unknown(reader, SharedFields.Concat(methodFields)),
        };
        read.Validate(reader.Source);
        return read;
    }
}
