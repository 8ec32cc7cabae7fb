using PeftSharp.Modules;
using PeftSharp.Models;
using PeftSharp.Tuners.Common;

namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// Attaches bottleneck adapters (peft_type "BOTTLENECK") to the adapter sites every model family places: the attention
/// and feed-forward outputs for Houlsby, the feed-forward output for Pfeiffer and parallel; with inv_adapter "nice" also
/// an invertible adapter at the embeddings and its inverse before language-model heads. No model file knows of them.
/// </summary>
public sealed class BottleneckMethod : PeftMethod
{
    public override string PeftType => "BOTTLENECK";

    public override string Description =>
        "Bottleneck adapters after sublayers: Houlsby, Pfeiffer, parallel (Houlsby et al. 2019; Pfeiffer et al. 2021; He et al. 2022); NICE invertible adapters (MAD-X)";

    public override PeftConfig ReadConfig(ConfigReader reader) => BottleneckConfig.Read(reader);

    public override PeftConfig Attach(PeftModel peft, string name, PeftConfig config)
    {
        var bottleneck = (BottleneckConfig)config;
        var model = peft.Model;
        long hidden = model.Config.HiddenSize;
        bottleneck.BottleneckSize(hidden);
        if (bottleneck.InvAdapter is not null) bottleneck.CouplingSize(hidden);
        var sites = Sites(model, bottleneck);
        var embeddings = bottleneck.InvAdapter is null ? null : EmbeddingSite(model);

        var state = AdapterSetupState.Of(peft);
        foreach (var (_, site) in sites)
            AdapterSites.Handler(site, BottleneckAdapterLayer.HandlerName, () => new BottleneckAdapterLayer(hidden, state)).AddAdapter(name, bottleneck);
        if (embeddings is not null)
        {
            var invertible = AdapterSites.Handler(embeddings, InvertibleAdapterLayer.HandlerName, () => new InvertibleAdapterLayer(state));
            invertible.AddAdapter(name, hidden, bottleneck);
            foreach (var (_, head) in AdapterSites.All(model).Where(s => s.Site.Kind == SiteKind.HeadInput))
                AdapterSites.Handler(head, InvertibleAdapterLayer.HandlerName, () => new InverseAdapterHandler(invertible));
        }
        return bottleneck;
    }

    /// <summary>The sites the placement and layers_to_transform select.</summary>
    static List<(string Path, AdapterSite Site)> Sites(Models.TransformerModel model, BottleneckConfig config)
    {
        var kinds = config.Placement == BottleneckPlacement.Houlsby
            ? new[] { SiteKind.AttentionOutput, SiteKind.FeedForwardOutput }
            : new[] { SiteKind.FeedForwardOutput };
        var blockSites = AdapterSites.All(model).Where(s => kinds.Contains(s.Site.Kind)).ToList();
        if (blockSites.Count == 0)
            throw new ConfigException("bottleneck adapter config", "placement",
                $"{model.Architecture} has no {string.Join(" or ", kinds)} adapter site for {config.Placement.ToString().ToLowerInvariant()} adapters");
        if (config.LayersToTransform is not { } layers) return blockSites;
        var available = blockSites.Select(s => s.Site.LayerIndex).OfType<int>().Distinct().Order().ToList();
        var missing = layers.Except(available).ToList();
        if (missing.Count > 0)
            throw new ConfigException("bottleneck adapter config", "layers_to_transform",
                $"{model.Architecture} has no block {string.Join(", ", missing)} (blocks: {string.Join(", ", available)})");
        return blockSites.Where(s => s.Site.LayerIndex is int index && layers.Contains(index)).ToList();
    }

    static AdapterSite EmbeddingSite(Models.TransformerModel model)
    {
        var sites = AdapterSites.All(model).Where(s => s.Site.Kind == SiteKind.Embeddings).ToList();
        return sites.Count == 1
            ? sites[0].Site
            : throw new ConfigException("bottleneck adapter config", "inv_adapter", $"{model.Architecture} has {sites.Count} embedding adapter sites; an invertible adapter needs exactly one");
    }
}
