using PeftSharp.Models.Heads;
using PeftSharp.Modules;

namespace PeftSharp.Models.Llama;

/// <summary>Llama, Mistral and Qwen2: one implementation, their differences read from config.json.</summary>
public sealed class LlamaFamily : ModelFamily
{
    public override string Name => "llama";
    public override IReadOnlyList<string> ModelTypes { get; } = new[] { "llama", "mistral", "qwen2" };
    public override IReadOnlyList<ModelTask> Tasks { get; } = new[] { ModelTask.Base, ModelTask.CausalLM, ModelTask.SequenceClassification };

    public override ModelConfig ParseConfig(ConfigReader reader) => new LlamaConfig(reader);

    public override TransformerModel Create(ModelConfig config, ModelTask task, LayerFactory factory)
    {
        var llama = (LlamaConfig)config;
        var backbone = new LlamaModel(llama, factory);
        string architecture = ArchitectureName(config.ModelType, task);
        return task switch
        {
            ModelTask.Base => backbone,
            ModelTask.CausalLM => new CausalLanguageModel(architecture, backbone, factory, llama.TieWordEmbeddings),
            ModelTask.SequenceClassification => new LastTokenClassifier(architecture, backbone, factory),
            _ => throw new ArgumentException($"{Name} models have no {task} head (available: {string.Join(", ", Tasks)})", nameof(task)),
        };
    }

    public override string ArchitectureName(string modelType, ModelTask task)
    {
        string stem = modelType switch { "mistral" => "Mistral", "qwen2" => "Qwen2", _ => "Llama" };
        return task switch
        {
            ModelTask.Base => $"{stem}Model",
            ModelTask.CausalLM => $"{stem}ForCausalLM",
            ModelTask.SequenceClassification => $"{stem}ForSequenceClassification",
            _ => $"{stem}For{task}",
        };
    }
}
