using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Tokenization;

namespace PeftSharp.Tuners.Prompts;

/// <summary>
/// Prompt tuning (Lester et al. 2021): k learned virtual-token embeddings prepended to the input embeddings; the model
/// stays frozen. adapter_config.json with peft_type "PROMPT_TUNING" and PEFT's fields.
/// </summary>
public sealed record PromptTuningConfig : PromptLearningConfig
{
    public override string PeftType => "PROMPT_TUNING";

    /// <summary>PEFT "prompt_tuning_init".</summary>
    public PromptTuningInit PromptTuningInit { get; init; } = PromptTuningInit.Random;

    /// <summary>PEFT "prompt_tuning_init_text": the text whose token embeddings start the prompt (TEXT init).</summary>
    public string? PromptTuningInitText { get; init; }

    /// <summary>
    /// PEFT "tokenizer_name_or_path": for TEXT init, a local tokenizer directory (or, informational only, a hub name
    /// when <see cref="Tokenizer"/> or <see cref="InitTokenIds"/> is given).
    /// </summary>
    public string? TokenizerNameOrPath { get; init; }

    /// <summary>The tokenizer for TEXT init (not saved); takes precedence over <see cref="TokenizerNameOrPath"/>.</summary>
    public PretrainedTokenizer? Tokenizer { get; init; }

    /// <summary>Token ids of the init text, already tokenized (not saved); take precedence over tokenizing the text.</summary>
    public IReadOnlyList<long>? InitTokenIds { get; init; }

    protected override void Validate(string source)
    {
        base.Validate(source);
        if (PromptTuningInit != PromptTuningInit.Text) return;
        if (InitTokenIds is { Count: 0 }) throw new ConfigException(source, "prompt_tuning_init_text", "TEXT init was given no token ids");
        if (InitTokenIds is not null) return;
        if (PromptTuningInitText is null) throw new ConfigException(source, "prompt_tuning_init_text", "TEXT init needs the text");
        if (Tokenizer is null && string.IsNullOrEmpty(TokenizerNameOrPath))
            throw new ConfigException(source, "tokenizer_name_or_path", "TEXT init needs a tokenizer (a directory here, or PromptTuningConfig.Tokenizer in code)");
    }

    protected internal override (int TokenDim, int Heads) ModelDimensions(TransformerModel model) => (model.Config.HiddenSize, model.Config.NumHeads);

    /// <summary>
    /// Token ids for TEXT init: the text tokenized with special tokens (as PEFT's tokenizer(text)["input_ids"]), cut to
    /// <see cref="PromptLearningConfig.NumVirtualTokens"/> or repeated up to it.
    /// </summary>
    public long[] InitIds()
    {
        IReadOnlyList<long> ids = InitTokenIds ?? TokenizeInitText();
        if (ids.Count == 0) throw new ConfigException($"{PeftType} config", "prompt_tuning_init_text", $"'{PromptTuningInitText}' gives no tokens");
        return Enumerable.Range(0, NumVirtualTokens).Select(i => ids[i % ids.Count]).ToArray();
    }

    long[] TokenizeInitText()
    {
        var tokenizer = Tokenizer;
        if (tokenizer is null)
        {
            if (!Directory.Exists(TokenizerNameOrPath))
                throw new ConfigException($"{PeftType} config", "tokenizer_name_or_path",
                    $"'{TokenizerNameOrPath}' is not a local tokenizer directory (hub names cannot be fetched); give PromptTuningConfig.Tokenizer or InitTokenIds");
            tokenizer = PretrainedTokenizer.FromDirectory(TokenizerNameOrPath!);
        }
        return tokenizer.Encode(PromptTuningInitText!).Ids.Select(i => (long)i).ToArray();
    }

    protected override void WriteMethodFields(JsonObject json)
    {
        json["prompt_tuning_init"] = InitName(PromptTuningInit);
        json["prompt_tuning_init_text"] = PromptTuningInitText;
        json["tokenizer_name_or_path"] = TokenizerNameOrPath;
        json["tokenizer_kwargs"] = null;
    }

    static readonly string[] MethodFields = { "prompt_tuning_init", "prompt_tuning_init_text", "tokenizer_name_or_path", "tokenizer_kwargs" };

    /// <summary>Reads adapter_config.json content.</summary>
    public static PromptTuningConfig Read(ConfigReader reader)
    {
        string init = reader.String("prompt_tuning_init", "RANDOM");
        var config = ReadShared(reader, new PromptTuningConfig
        {
            NumVirtualTokens = reader.Int("num_virtual_tokens"),
            PromptTuningInit = init switch
            {
                "RANDOM" => PromptTuningInit.Random,
                "SAMPLE_VOCAB" => PromptTuningInit.SampleVocab,
                "TEXT" => PromptTuningInit.Text,
                _ => throw new ConfigException(reader.Source, "prompt_tuning_init", $"must be RANDOM, SAMPLE_VOCAB or TEXT, got '{init}'"),
            },
            PromptTuningInitText = reader.StringOrNull("prompt_tuning_init_text"),
            TokenizerNameOrPath = reader.StringOrNull("tokenizer_name_or_path"),
        }, MethodFields);
        return reader.Has("tokenizer_kwargs") ? config with { IgnoredFields = config.IgnoredFields.Append("tokenizer_kwargs").ToList() } : config;
    }

    static string InitName(PromptTuningInit init) => init switch
    {
        PromptTuningInit.SampleVocab => "SAMPLE_VOCAB",
        PromptTuningInit.Text => "TEXT",
        _ => "RANDOM",
    };
}
