using PeftSharp.Models;
using PeftSharp.Tuners.Common;

namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// Attaches an AdapterFusion (peft_type "FUSION") over bottleneck adapters: an <see cref="AdapterFusionLayer"/> at
/// every site holding one of them. Fused adapters missing from the model are loaded from the subdirectories of the
/// directory the config was read from. Activate the fusion by its name or with <c>Compose.Fuse(...)</c>; train it with
/// <see cref="PeftModel.MarkTrainable"/>(fusion name), which leaves the fused adapters frozen.
/// </summary>
public sealed class FusionMethod : PeftMethod
{
    public override string PeftType => "FUSION";

    public override string Description => "AdapterFusion: attention over bottleneck adapters' outputs, adapters frozen (Pfeiffer et al. 2021)";

    public override PeftConfig ReadConfig(ConfigReader reader) => FusionConfig.Read(reader);

    public override PeftConfig Attach(PeftModel peft, string name, PeftConfig config)
    {
        var fusion = (FusionConfig)config;
        foreach (string adapter in fusion.Adapters)
        {
            if (!peft.Adapters.ContainsKey(adapter)) LoadSaved(peft, fusion, adapter);
            if (peft.Adapters[adapter] is not BottleneckConfig)
                throw new ConfigException("fusion config", "adapters", $"'{adapter}' is a {peft.Adapters[adapter].PeftType} adapter; AdapterFusion combines bottleneck adapters");
        }
        var layers = peft.Model.named_modules().Select(m => m.module).OfType<BottleneckAdapterLayer>()
            .Where(layer => fusion.Adapters.Any(layer.Holds)).ToList();
        foreach (var layer in layers) layer.AddFusion(name, fusion);
        AdapterSetupState.Of(peft).Fusions[name] = fusion.Adapters.ToList();
        return fusion;
    }

    /// <summary>Loads a fused adapter saved beside the fusion (&lt;fusion dir&gt;/&lt;adapter&gt;), frozen.</summary>
    static void LoadSaved(PeftModel peft, FusionConfig fusion, string adapter)
    {
        string? saved = fusion.SourceDirectory is { } directory ? Path.Combine(directory, adapter) : null;
        if (saved is null || !File.Exists(Path.Combine(saved, AdapterFiles.ConfigFile)))
            throw new ConfigException("fusion config", "adapters",
                $"no adapter named '{adapter}' on the model{(saved is null ? "" : $" and none saved in {saved}")} (adapters: {string.Join(", ", peft.Adapters.Keys)})");
        peft.LoadAdapter(saved, adapter);
    }
}
