using System.Text.Json;
using PeftSharp.IO;
using PeftSharp.Tuners.Common;
using static TorchSharp.torch;

namespace PeftSharp.Tuners;

/// <summary>
/// Adapter directories in Hugging Face PEFT's layout: adapter_config.json and adapter_model.safetensors with keys
/// "base_model.model.&lt;module path&gt;.&lt;tensor&gt;" (the adapter name left out, as PEFT saves them).
/// </summary>
public static class AdapterFiles
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";
    public const string KeyPrefix = "base_model.model.";

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes adapter <paramref name="name"/> of <paramref name="peft"/> into <paramref name="directory"/>.</summary>
    public static void Save(PeftModel peft, string directory, string name)
    {
        if (!peft.Adapters.TryGetValue(name, out var config))
            throw new ArgumentException($"no adapter named '{name}'", nameof(name));
        Directory.CreateDirectory(directory);
        var (saved, tensors) = SaveForm(peft, name, config);
        SafetensorsWriter.Save(Path.Combine(directory, WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        AtomicFile.WriteText(Path.Combine(directory, ConfigFile), (saved with { InferenceMode = true }).ToJson().ToJsonString(Indented));
    }

    /// <summary>The config and the tensors (by file key) an adapter is saved as.</summary>
    public static (PeftConfig Config, Dictionary<string, Tensor> Tensors) SaveForm(PeftModel peft, string name, PeftConfig config)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        string prefix = ModelKeyPrefix(config);
        foreach (var (path, module) in peft.AdapterModules())
        {
            if (!module.AdapterNames.Contains(name)) continue;
            foreach (var (key, value) in module.AdapterState(name))
                tensors[FileKey(path, key, prefix)] = value.detach();
        }
        return (config is ISavedFormConversion conversion ? conversion.Convert(peft, name, tensors) : config, tensors);
    }

    /// <summary>
    /// File key of a module's tensor: "base_model.model.&lt;path&gt;.&lt;key&gt;", or another <paramref name="prefix"/>
    /// (see <see cref="IModelKeyPrefix"/>); model-level modules: the key alone.
    /// </summary>
    public static string FileKey(string path, string key, string prefix = KeyPrefix) => path.Length == 0 ? key : $"{prefix}{path}.{key}";

    /// <summary>The prefix an adapter's files put before module paths: "base_model.model." unless its config says otherwise.</summary>
    public static string ModelKeyPrefix(PeftConfig config) => config is IModelKeyPrefix custom ? custom.ModelKeyPrefix : KeyPrefix;

    /// <summary>Attaches the adapter saved in <paramref name="directory"/> to <paramref name="peft"/> under <paramref name="name"/>.</summary>
    /// <exception cref="WeightMismatchException">The adapter does not fit the model (names the module and both shapes).</exception>
    public static PeftConfig Load(PeftModel peft, string directory, string name)
    {
        string configPath = Path.Combine(directory, ConfigFile);
        string weightsPath = Path.Combine(directory, WeightsFile);
        if (!Directory.Exists(directory)) throw new ConfigException(directory, null, "adapter directory not found");
        if (!File.Exists(weightsPath)) throw new CheckpointFormatException(directory, $"no {WeightsFile}");
        var config = PeftMethods.ReadConfig(configPath);
        peft.AddAdapter(name, config.ForLoading());
        try
        {
            using var file = SafetensorsFile.Open(weightsPath);
            Fill(peft, name, file, weightsPath, ModelKeyPrefix(config));
        }
        catch
        {
            peft.DeleteAdapter(name);
            throw;
        }
        return config;
    }

    static void Fill(PeftModel peft, string name, SafetensorsFile file, string weightsPath, string prefix)
    {
        var modules = peft.AdapterModules().Where(m => m.Module.AdapterNames.Contains(name)).ToList();
        var byModule = new Dictionary<IAdapterModule, Dictionary<string, Tensor>>(ReferenceEqualityComparer.Instance);
        foreach (var (_, module) in modules) byModule[module] = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        foreach (string key in file.Names)
        {
            var owner = Owner(key, modules, name, prefix);
            if (owner is null) unexpected.Add(key);
            else byModule[owner.Value.Module][owner.Value.Key] = file.Read(key);
        }
        if (unexpected.Count > 0)
            throw new WeightMismatchException(
                $"{weightsPath}: {unexpected.Count} tensor(s) fit no adapted module of this model: {string.Join(", ", unexpected.Take(10))}{(unexpected.Count > 10 ? ", ..." : "")}");
        foreach (var (path, module) in modules)
        {
            try
            {
                module.LoadAdapterState(name, byModule[module]);
            }
            catch (ArgumentException e)
            {
                throw new WeightMismatchException($"{weightsPath}: module '{(path.Length == 0 ? module.GetType().Name : path)}': {e.Message}");
            }
        }
    }

    /// <summary>
    /// The adapter module a file key belongs to and the rest of the key: for keys under <paramref name="prefix"/>
    /// ("base_model.model.") the module with the longest path the key starts with; for other keys the model-level module
    /// that stores that key.
    /// </summary>
    static (IAdapterModule Module, string Key)? Owner(string fileKey, List<(string Path, IAdapterModule Module)> modules, string name, string prefix)
    {
        if (!fileKey.StartsWith(prefix, StringComparison.Ordinal))
        {
            var owner = modules.FirstOrDefault(m => m.Path.Length == 0 && m.Module.AdapterState(name).Any(t => t.Key == fileKey));
            return owner.Module is null ? null : (owner.Module, fileKey);
        }
        string key = fileKey[prefix.Length..];
        (IAdapterModule Module, string Key, int Length)? best = null;
        foreach (var (path, module) in modules)
            if (path.Length > 0 && key.StartsWith(path + ".", StringComparison.Ordinal) && (best is null || path.Length > best.Value.Length))
                best = (module, key[(path.Length + 1)..], path.Length);
        return best is { } b ? (b.Module, b.Key) : null;
    }
}

/// <summary>A config whose adapters are saved in another form than they train in (e.g. PiSSA saved as plain LoRA).</summary>
public interface ISavedFormConversion
{
    /// <summary>Rewrites <paramref name="tensors"/> in place and returns the config to save with them.</summary>
    PeftConfig Convert(PeftModel peft, string name, Dictionary<string, Tensor> tensors);
}

/// <summary>
/// A config whose adapter files key the model's modules under another prefix than "base_model.model.": PEFT wraps no
/// tuner model around the transformer for prompt learning, so its modules_to_save keys read "base_model.&lt;path&gt;".
/// </summary>
public interface IModelKeyPrefix
{
    /// <summary>The prefix before module paths in file keys, e.g. "base_model.".</summary>
    string ModelKeyPrefix { get; }
}
