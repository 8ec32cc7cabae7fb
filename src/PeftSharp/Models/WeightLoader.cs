using PeftSharp.IO;
using static TorchSharp.torch;

namespace PeftSharp.Models;

/// <summary>What loading a checkpoint into a model did.</summary>
public sealed class LoadReport
{
    /// <summary>Number of model tensors filled from the checkpoint.</summary>
    public int Loaded { get; init; }

    /// <summary>Head tensors the checkpoint lacked, left freshly initialised (a new task head).</summary>
    public IReadOnlyList<string> NewlyInitialized { get; init; } = Array.Empty<string>();

    /// <summary>Checkpoint tensors of heads this model does not have (e.g. "cls.*" of a pre-training checkpoint).</summary>
    public IReadOnlyList<string> Dropped { get; init; } = Array.Empty<string>();

    /// <summary>Missing or unexpected tensors tolerated because strict loading was off.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();
}

/// <summary>
/// Fills a model's tensors from a checkpoint by Hugging Face key, tolerating what real checkpoints contain: keys with
/// or without the base-model prefix, "gamma"/"beta" LayerNorm names, tied weights left out, buffers that are not
/// model state, tensors of other heads. Strict by default: any other missing or unexpected tensor, or any shape that
/// disagrees with the config, fails with a list of them.
/// </summary>
public static class WeightLoader
{
    /// <summary>Loads <paramref name="source"/> into <paramref name="model"/>, converting to the model's dtype.</summary>
    /// <exception cref="WeightMismatchException">Missing, unexpected or mis-shaped tensors (strict), or shapes (always).</exception>
    public static LoadReport Load(TransformerModel model, ModelFamily family, ITensorSource source, bool strict = true)
    {
        var targets = model.state_dict();
        foreach (string tied in model.TiedParameters.Keys) targets.Remove(tied);
        foreach (string key in model.NonPersistentKeys) targets.Remove(key);

        var mapped = new Dictionary<string, string>(StringComparer.Ordinal);  // model key -> checkpoint key
        var dropped = new List<string>();
        var unexpected = new List<string>();
        string? prefix = model.BaseModelPrefix;
        string familyPrefix = model.FamilyPrefix + ".";
        // First names of the backbone's own keys ("embeddings", "encoder", ...), to recognise a prefix-less backbone
        // key. A head model's head keys ("cls.predictions.*") do not count: other heads' tensors ("cls.seq_relationship.*")
        // must be dropped, not reported as unexpected backbone tensors.
        var backboneRoots = targets.Keys
            .Where(k => prefix is null || k.StartsWith(familyPrefix, StringComparison.Ordinal))
            .Select(k => prefix is null ? k : k[familyPrefix.Length..])
            .Select(k => k.Split('.')[0]).ToHashSet(StringComparer.Ordinal);
        foreach (string stored in source.Names.OrderBy(n => n, StringComparer.Ordinal))
        {
            string key = family.NormalizeKey(stored);
            if (family.IsIgnorableCheckpointKey(key)) continue;
            string? target = Resolve(key, targets, prefix, familyPrefix);
            if (target is null)
            {
                if (model.TiedParameters.ContainsKey(key)) continue;
                var (inBackbone, relative) = Classify(key, familyPrefix, backboneRoots);
                if (inBackbone && !family.IsUnusedBackboneKey(relative, model.Task)) unexpected.Add(stored);
                else dropped.Add(stored);
                continue;
            }
            if (!mapped.TryAdd(target, stored))
                throw new WeightMismatchException($"{source.Description}: '{stored}' and '{mapped[target]}' both map to model tensor '{target}'");
        }

        var missing = targets.Keys.Where(k => !mapped.ContainsKey(k)).ToList();
        var headPrefixes = model.HeadModules.Select(h => h + ".").ToList();
        bool checkpointHasHead = mapped.Keys.Any(k => headPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal)));
        var newHead = checkpointHasHead ? new List<string>() : missing.Where(k => headPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal))).ToList();
        missing = missing.Except(newHead).ToList();

        var shapeErrors = new List<string>();
        foreach (var (target, stored) in mapped)
        {
            var info = source.Info(stored);
            var expected = targets[target].shape;
            if (!expected.SequenceEqual(info.Shape))
                shapeErrors.Add($"  {stored}: checkpoint [{string.Join(", ", info.Shape)}], model expects [{string.Join(", ", expected)}]");
        }
        if (shapeErrors.Count > 0)
            throw new WeightMismatchException(
                $"{source.Description}: {shapeErrors.Count} tensor(s) do not match the shapes config.json implies ({model.Config.Source}):\n{string.Join("\n", shapeErrors.Take(20))}");
        var warnings = new List<string>();
        if (missing.Count > 0 || unexpected.Count > 0)
        {
            string message = Describe(source.Description, model.Architecture, missing, unexpected);
            if (strict) throw new WeightMismatchException(message);
            warnings.Add(message);
        }

        using (no_grad())
        {
            foreach (var (target, stored) in mapped)
            {
                using var scope = NewDisposeScope();
                source.ReadInto(stored, targets[target]);
            }
        }
        return new LoadReport { Loaded = mapped.Count, NewlyInitialized = newHead, Dropped = dropped, Warnings = warnings };
    }

    /// <summary>The model key a (normalised) checkpoint key fills, adding or removing the base-model prefix as needed.</summary>
    static string? Resolve(string key, Dictionary<string, Tensor> targets, string? prefix, string familyPrefix)
    {
        if (targets.ContainsKey(key)) return key;
        if (prefix is not null && targets.ContainsKey($"{prefix}.{key}")) return $"{prefix}.{key}";
        if (prefix is null && key.StartsWith(familyPrefix, StringComparison.Ordinal) && targets.ContainsKey(key[familyPrefix.Length..]))
            return key[familyPrefix.Length..];
        return null;
    }

    /// <summary>
    /// Whether an unmatched checkpoint key belongs to the backbone (then it is unexpected) or to some other head
    /// (then it is dropped), and its key relative to the backbone.
    /// </summary>
    static (bool InBackbone, string Relative) Classify(string key, string familyPrefix, HashSet<string> backboneRoots)
    {
        if (key.StartsWith(familyPrefix, StringComparison.Ordinal)) return (true, key[familyPrefix.Length..]);
        return (backboneRoots.Contains(key.Split('.')[0]), key);
    }

    static string Describe(string source, string architecture, List<string> missing, List<string> unexpected)
    {
        var lines = new List<string> { $"{source} does not fit {architecture}:" };
        if (missing.Count > 0)
            lines.Add($"  missing {missing.Count} tensor(s): {string.Join(", ", missing.Take(30))}{(missing.Count > 30 ? ", ..." : "")}");
        if (unexpected.Count > 0)
            lines.Add($"  unexpected {unexpected.Count} tensor(s): {string.Join(", ", unexpected.Take(30))}{(unexpected.Count > 30 ? ", ..." : "")}");
        lines.Add("  (pass strict: false to load anyway)");
        return string.Join("\n", lines);
    }
}
