using PeftSharp.Models;

namespace PeftSharp.Tuners.Common;

/// <summary>
/// PEFT's modules_to_save: whole modules (a classification head, typically) trained as per-adapter copies next to a
/// method's own parameters. Entries match module paths that end with them, exactly as PEFT matches them (so
/// "classifier" also takes DistilBERT's "pre_classifier"); for classification tasks "classifier" and "score" are added
/// as PEFT adds them. Each parameterised leaf inside a matched module gets a <see cref="ParameterOverrideLayer"/>.
/// </summary>
public static class ModulesToSave
{
    /// <summary>Heads PEFT trains automatically for sequence and token classification.</summary>
    public static readonly IReadOnlyList<string> ClassificationHeads = new[] { "classifier", "score" };

    /// <summary>The effective entries: the config's list plus, for classification tasks, PEFT's head names.</summary>
    public static List<string> Entries(PeftConfig config, TransformerModel model)
    {
        var entries = (config.ModulesToSave ?? Array.Empty<string>()).ToList();
        string? task = config.TaskType ?? (config.InferTaskHeads ? PeftConfig.TaskTypeOf(model.Task) : null);
        if (task is "SEQ_CLS" or "TOKEN_CLS")
            foreach (string head in ClassificationHeads)
                if (!entries.Contains(head)) entries.Add(head);
        return entries;
    }

    /// <summary>Whether <paramref name="path"/> lies in a module that modules_to_save will copy whole (methods leave those alone).</summary>
    public static bool Covers(string path, PeftConfig config, TransformerModel model)
    {
        var entries = Entries(config, model);
        var parts = path.Split('.');
        for (int length = 1; length <= parts.Length; length++)
        {
            string prefix = string.Join('.', parts.Take(length));
            if (entries.Any(e => prefix.EndsWith(e, StringComparison.Ordinal))) return true;
        }
        return false;
    }

    /// <summary>Attaches the copies for adapter <paramref name="name"/>; returns the config with the effective list.</summary>
    public static PeftConfig Attach(Tuners.PeftModel peft, string name, PeftConfig config)
    {
        var entries = Entries(config, peft.Model);
        config = config with { TaskType = config.TaskType ?? PeftConfig.TaskTypeOf(peft.Model.Task), ModulesToSave = entries.Count > 0 ? entries : config.ModulesToSave };
        if (entries.Count == 0) return config;

        var matched = peft.Model.named_modules()
            .Where(m => m.name.Length > 0 && entries.Any(e => m.name.EndsWith(e, StringComparison.Ordinal)))
            .Select(m => m.name).ToList();
        // Modules inside adapter layers (their base layers, LoRA's A and B) are never candidates themselves.
        var adapterLayers = peft.Model.named_modules().Where(m => m.module is AdapterLayer).Select(m => m.name + ".").ToList();
        var leaves = peft.Model.named_modules()
            .Where(m => matched.Any(p => m.name == p || m.name.StartsWith(p + ".", StringComparison.Ordinal)))
            .Where(m => !adapterLayers.Any(a => m.name.StartsWith(a, StringComparison.Ordinal)))
            .Where(m => m.module is AdapterLayer || ParameterOverrideLayer.IsSupported(m.module))
            .ToList();
        foreach (var (path, module) in leaves)
        {
            if (module is AdapterLayer and not ParameterOverrideLayer)
                throw new ConfigException("adapter config", "modules_to_save", $"'{path}' is already adapted by another method and cannot also be saved whole");
            var layer = module as ParameterOverrideLayer;
            if (layer is null)
            {
                layer = new ParameterOverrideLayer((TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>)module);
                ModuleTree.Replace(peft.Model, path, layer);
            }
            layer.AddAdapter(name, layer.BaseParameterNames);
        }
        return config;
    }
}
