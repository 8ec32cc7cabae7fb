using System.Text.RegularExpressions;
using PeftSharp.Models.Heads;
using PeftSharp.Modules;

namespace PeftSharp.Models.Gpt2;

/// <summary>GPT-2: GPT2Model, GPT2LMHeadModel (tied lm_head), GPT2ForSequenceClassification, GPT2ForTokenClassification.</summary>
public sealed partial class Gpt2Family : ModelFamily
{
    public override string Name => "gpt2";
    public override IReadOnlyList<string> ModelTypes { get; } = new[] { "gpt2" };
    public override IReadOnlyList<ModelTask> Tasks { get; } =
        new[] { ModelTask.Base, ModelTask.CausalLM, ModelTask.SequenceClassification, ModelTask.TokenClassification };

    public override ModelConfig ParseConfig(ConfigReader reader) => new Gpt2Config(reader);

    public override TransformerModel Create(ModelConfig config, ModelTask task, LayerFactory factory)
    {
        var gpt2 = (Gpt2Config)config;
        var backbone = new Gpt2Model(gpt2, factory);
        string architecture = ArchitectureName(config.ModelType, task);
        return task switch
        {
            ModelTask.Base => backbone,
            ModelTask.CausalLM => new CausalLanguageModel(architecture, backbone, factory, gpt2.TieWordEmbeddings),
            ModelTask.SequenceClassification => new LastTokenClassifier(architecture, backbone, factory),
            ModelTask.TokenClassification => new TokenClassifier(architecture, backbone, factory, gpt2.ClassifierDropout),
            _ => throw new ArgumentException($"{Name} models have no {task} head (available: {string.Join(", ", Tasks)})", nameof(task)),
        };
    }

    public override string ArchitectureName(string modelType, ModelTask task) => task switch
    {
        ModelTask.Base => "GPT2Model",
        ModelTask.CausalLM => "GPT2LMHeadModel",
        _ => $"GPT2For{task}",
    };

    /// <summary>Older checkpoints hold each block's causal-mask buffers "h.N.attn.bias" and "h.N.attn.masked_bias".</summary>
    public override bool IsIgnorableCheckpointKey(string key) => MaskBuffer().IsMatch(key) || base.IsIgnorableCheckpointKey(key);

    [GeneratedRegex(@"(^|\.)h\.\d+\.attn\.(bias|masked_bias)$")]
    private static partial Regex MaskBuffer();
}
