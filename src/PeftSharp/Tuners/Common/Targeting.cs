using PeftSharp.Models;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Common;

/// <summary>Finds the modules of a model that a method's target patterns select.</summary>
public static class Targeting
{
    /// <summary>
    /// The (path, module) pairs matched by <paramref name="targets"/> among modules accepted by <paramref name="isCandidate"/>.
    /// "all-linear" takes every linear layer except the model's output head. Nothing matching is an error that lists
    /// the closest module names, so a typo is easy to see.
    /// </summary>
    /// <exception cref="ConfigException">No module matched.</exception>
    public static List<(string Path, nn.Module Module)> Find(nn.Module model, TargetPatterns targets, Func<nn.Module, bool> isCandidate,
        string method, IReadOnlyList<string>? headModules = null)
    {
        var all = model.named_modules().Where(m => m.name.Length > 0).ToList();
        // Modules inside adapter layers (their base layer, LoRA's A and B) are not part of the model's own structure.
        var adapterLayers = all.Where(m => m.module is AdapterLayer).Select(m => m.name + ".").ToList();
        all = all.Where(m => !adapterLayers.Any(a => m.name.StartsWith(a, StringComparison.Ordinal))).ToList();
        var heads = headModules ?? (model as TransformerModel)?.HeadModules ?? Array.Empty<string>();
        var matched = all
            .Where(m => isCandidate(m.module))
            .Where(m => !targets.IsAllLinear || LinearWeights.IsLinear(m.module) || m.module is AdapterLayer { BaseModule: var b } && LinearWeights.IsLinear(b))
            .Where(m => !targets.IsAllLinear || !heads.Any(h => m.name == h || m.name.StartsWith(h + ".", StringComparison.Ordinal)))
            .Where(m => targets.Matches(m.name))
            .Select(m => (m.name, m.module))
            .ToList();
        if (matched.Count == 0)
            throw new ConfigException($"{method} config", "target_modules",
                $"no module of the model matches {targets}{Describe(targets)}; {Suggest(all.Select(m => m.name), targets, isCandidate, all)}");
        return matched;
    }

    static string Describe(TargetPatterns targets)
    {
        var parts = new List<string>();
        if (targets.ExcludeNames is { } ex) parts.Add($"excluding [{string.Join(", ", ex)}]");
        if (targets.ExcludeRegex is { } exr) parts.Add($"excluding /{exr}/");
        if (targets.LayersToTransform is { } layers) parts.Add($"in layers [{string.Join(", ", layers)}]");
        return parts.Count == 0 ? "" : " " + string.Join(" ", parts);
    }

    /// <summary>The module names most like the requested ones.</summary>
    static string Suggest(IEnumerable<string> paths, TargetPatterns targets, Func<nn.Module, bool> isCandidate, List<(string name, nn.Module module)> all)
    {
        var leafNames = all.Where(m => isCandidate(m.module)).Select(m => m.name.Split('.')[^1]).Distinct().OrderBy(n => n).ToList();
        if (leafNames.Count == 0) return "the model has no module this method can attach to";
        var wanted = targets.Names ?? new[] { targets.Regex ?? "" };
        var close = leafNames.OrderBy(n => wanted.Min(w => Distance(w, n))).Take(5);
        return $"closest module names: {string.Join(", ", close)} (all candidates: {string.Join(", ", leafNames.Take(40))})";
    }

    static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}
