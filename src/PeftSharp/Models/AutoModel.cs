using PeftSharp.IO;
using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models;

/// <summary>A model built from a Hugging Face directory, with what loading it did.</summary>
public sealed record LoadedModel(TransformerModel Model, ModelFamily Family, LoadReport Report);

/// <summary>Builds models from Hugging Face directories (config.json + weights) or from a config alone.</summary>
public static class AutoModel
{
    /// <summary>Reads config.json of a model directory.</summary>
    public static (ModelFamily Family, ModelConfig Config) ReadConfig(string directory)
    {
        if (!Directory.Exists(directory)) throw new ConfigException(directory, null, "model directory not found");
        var reader = ConfigReader.FromFile(Path.Combine(directory, "config.json"));
        var family = ModelFamilies.ForModelType(reader.String("model_type"), reader.Source);
        return (family, family.ParseConfig(reader));
    }

    /// <summary>Loads a model directory: config.json and safetensors (single or sharded) or PyTorch weights.</summary>
    public static LoadedModel Load(string directory, ModelLoadOptions? options = null)
    {
        options ??= new ModelLoadOptions();
        var (family, config) = ReadConfig(directory);
        using var source = CheckpointDirectory.Open(directory);
        return Load(family, config, source, options);
    }

    /// <summary>Builds a model for <paramref name="config"/> and fills it from <paramref name="source"/>.</summary>
    public static LoadedModel Load(ModelFamily family, ModelConfig config, ITensorSource source, ModelLoadOptions options)
    {
        var task = options.Task ?? TaskFromArchitectures(family, config);
        if (options.Labels is { } labels) config.SetLabels(labels);
        var dtype = options.DType ?? DefaultDType(config);
        // Initialising every tensor would be wasted on a full checkpoint; an empty model is filled and only a head the
        // checkpoint lacks needs random values, so build uninitialised first and initialise that head afterwards.
        var model = Build(family, config, task, new LayerFactory(dtype, initialize: false, initializerRange: config.InitializerRange));
        var report = WeightLoader.Load(model, family, source, options.Strict);
        if (report.NewlyInitialized.Count > 0)
            InitializeTensors(model, report.NewlyInitialized, config.InitializerRange, options.Seed is long seed ? new Generator((ulong)seed) : null);
        model.eval();
        return new LoadedModel(model, family, report);
    }

    /// <summary>A randomly initialised model (Hugging Face's initialisation) for a config.</summary>
    public static TransformerModel Create(ModelConfig config, ModelTask task, ScalarType dtype = ScalarType.Float32, long? seed = null)
    {
        var family = ModelFamilies.ForModelType(config.ModelType, config.Source);
        var generator = seed is long s ? new Generator((ulong)s) : null;
        var model = Build(family, config, task, new LayerFactory(dtype, initialize: true, initializerRange: config.InitializerRange, generator: generator));
        model.eval();
        return model;
    }

    static TransformerModel Build(ModelFamily family, ModelConfig config, ModelTask task, LayerFactory factory)
    {
        if (!family.Tasks.Contains(task))
            throw new ConfigException(config.Source, "architectures", $"{family.Name} models have no {task} head (available: {string.Join(", ", family.Tasks)})");
        return family.Create(config, task, factory);
    }

    /// <summary>The head named by config.json "architectures"[0]; a bare model when absent.</summary>
    public static ModelTask TaskFromArchitectures(ModelFamily family, ModelConfig config)
    {
        if (config.Architectures.Count == 0) return ModelTask.Base;
        string architecture = config.Architectures[0];
        return family.TaskOf(architecture)
            ?? throw new ConfigException(config.Source, "architectures",
                $"'{architecture}' is not a {family.Name} class PeftSharp builds (choose a task explicitly; available: {string.Join(", ", family.Tasks)})");
    }

    /// <summary>
    /// config.json's torch_dtype when it is bfloat16 and the CPU computes bf16 natively (<see cref="CpuFeatures.HasFastBFloat16"/>);
    /// otherwise float32 (float16 is slow on CPUs, and emulated bf16 is slower than float32).
    /// </summary>
    public static ScalarType DefaultDType(ModelConfig config) =>
        config.TorchDType is { } name && DTypeNames.TryParse(name, out var type) && type == ScalarType.BFloat16 && CpuFeatures.HasFastBFloat16
            ? ScalarType.BFloat16
            : ScalarType.Float32;

    /// <summary>Gives the named tensors (weights of a new head) Hugging Face's initialisation.</summary>
    static void InitializeTensors(TransformerModel model, IReadOnlyList<string> keys, double std, Generator? generator)
    {
        var state = model.state_dict();
        using var _ = no_grad();
        foreach (string key in keys)
        {
            var tensor = state[key];
            if (key.EndsWith(".bias", StringComparison.Ordinal)) tensor.zero_();
            else if (tensor.dim() == 1) tensor.fill_(1.0);
            else tensor.normal_(0, std, generator);
        }
    }
}
