using PeftSharp.Tuners.Common;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Selection;

/// <summary>
/// Shared by the methods that train chosen existing parameters (BitFit, LayerNorm tuning, partial and full
/// fine-tuning): puts a <see cref="ParameterOverrideLayer"/> on each chosen layer, or adds the adapter to one that is
/// already there.
/// </summary>
public static class ParameterSelection
{
    /// <summary>Layers of the model that can carry trainable copies, excluding anything inside another adapter layer.</summary>
    public static IEnumerable<(string Path, nn.Module Module)> Candidates(nn.Module model)
    {
        var all = model.named_modules().Where(m => m.name.Length > 0).ToList();
        var adapterLayers = all.Where(m => m.module is AdapterLayer).Select(m => m.name + ".").ToList();
        return all
            .Where(m => !adapterLayers.Any(a => m.name.StartsWith(a, StringComparison.Ordinal)))
            .Where(m => m.module is ParameterOverrideLayer || ParameterOverrideLayer.IsSupported(m.module))
            .Select(m => (m.name, m.module));
    }

    /// <summary>The base layer under an override layer, or the module itself.</summary>
    public static nn.Module BaseOf(nn.Module module) => module is ParameterOverrideLayer layer ? layer.base_layer : module;

    /// <summary>Whether the layer (or the one an override layer wraps) has a parameter of that name.</summary>
    public static bool Has(nn.Module module, string parameter) =>
        BaseOf(module).named_parameters(recurse: false).Any(p => p.name == parameter);

    /// <summary>Attaches adapter <paramref name="name"/> training <paramref name="parameters"/> of each chosen layer.</summary>
    /// <exception cref="ConfigException">Nothing chosen.</exception>
    public static int Attach(nn.Module model, string name, IReadOnlyList<(string Path, nn.Module Module)> chosen, Func<nn.Module, IReadOnlyList<string>> parameters,
        string method, string keyPrefix = "")
    {
        if (chosen.Count == 0)
            throw new ConfigException($"{method} config", "target_modules", "selects no layer of this model");
        var shared = new Dictionary<long, TorchSharp.Modules.Parameter>();
        foreach (var (path, module) in chosen)
        {
            if (module is AdapterLayer and not ParameterOverrideLayer)
                throw new ConfigException($"{method} config", "target_modules", $"'{path}' is already adapted by {module.GetType().Name}");
            var layer = module as ParameterOverrideLayer;
            if (layer is null)
            {
                layer = new ParameterOverrideLayer((nn.Module<Tensor, Tensor>)module, keyPrefix);
                ModuleTree.Replace(model, path, layer);
            }
            layer.AddAdapter(name, parameters(layer.base_layer), shared: shared);
        }
        return chosen.Count;
    }
}
