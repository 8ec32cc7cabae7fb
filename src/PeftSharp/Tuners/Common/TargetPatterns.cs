using System.Text.RegularExpressions;

namespace PeftSharp.Tuners.Common;

/// <summary>
/// Which modules a method applies to, with Hugging Face PEFT's semantics: a list entry matches a path equal to it or
/// ending in "." + it; a single string is a regex that must match the whole path; "all-linear" is every linear layer
/// except the output head. Exclusions use the same rules; layer selection reads the block index from the path.
/// </summary>
public sealed record TargetPatterns
{
    /// <summary>PEFT's target_modules: a list of names/suffixes, or one regex (<see cref="Regex"/>), or "all-linear".</summary>
    public IReadOnlyList<string>? Names { get; init; }

    /// <summary>A regex matched against the whole module path (PEFT's target_modules given as a string).</summary>
    public string? Regex { get; init; }

    /// <summary>PEFT's exclude_modules: list of names/suffixes.</summary>
    public IReadOnlyList<string>? ExcludeNames { get; init; }

    /// <summary>PEFT's exclude_modules as one regex.</summary>
    public string? ExcludeRegex { get; init; }

    /// <summary>Only blocks with these indices (PEFT's layers_to_transform).</summary>
    public IReadOnlyList<int>? LayersToTransform { get; init; }

    /// <summary>Names of the module list holding the blocks (PEFT's layers_pattern); null tries the common ones.</summary>
    public IReadOnlyList<string>? LayersPattern { get; init; }

    /// <summary>The special value meaning every linear layer but the output head.</summary>
    public const string AllLinear = "all-linear";

    /// <summary>Names PEFT tries for the list of blocks when layers_pattern is not given.</summary>
    public static readonly IReadOnlyList<string> DefaultLayersPatterns = new[] { "layers", "h", "block", "blocks", "layer" };

    public bool IsAllLinear => Regex == AllLinear || Names is { Count: 1 } && Names[0] == AllLinear;

    /// <summary>Whether the module at <paramref name="path"/> is targeted (the all-linear case is decided by the caller).</summary>
    public bool Matches(string path)
    {
        bool included = IsAllLinear || (Regex is { } regex
            ? System.Text.RegularExpressions.Regex.IsMatch(path, $"^(?:{regex})$")
            : Names is { } names && names.Any(n => MatchesName(path, n)));
        if (!included || IsExcluded(path)) return false;
        if (LayersToTransform is { Count: > 0 } layers)
        {
            int? index = LayerIndex(path, LayersPattern);
            if (index is null || !layers.Contains(index.Value)) return false;
        }
        return true;
    }

    /// <summary>Whether <paramref name="path"/> is excluded by exclude_modules.</summary>
    public bool IsExcluded(string path) =>
        (ExcludeRegex is { } regex && System.Text.RegularExpressions.Regex.IsMatch(path, $"^(?:{regex})$"))
        || (ExcludeNames is { } names && names.Any(n => MatchesName(path, n)));

    /// <summary>PEFT's list rule: the path equals the name or ends with "." + name.</summary>
    public static bool MatchesName(string path, string name) => path == name || path.EndsWith("." + name, StringComparison.Ordinal);

    /// <summary>The block index in a path such as "model.layers.3.mlp.up_proj" (3), or null.</summary>
    public static int? LayerIndex(string path, IReadOnlyList<string>? layersPattern = null)
    {
        foreach (string pattern in layersPattern ?? DefaultLayersPatterns)
        {
            var match = System.Text.RegularExpressions.Regex.Match(path, $@"(?:^|\.){System.Text.RegularExpressions.Regex.Escape(pattern)}\.(\d+)(?:\.|$)");
            if (match.Success) return int.Parse(match.Groups[1].Value);
        }
        return null;
    }

    /// <summary>
    /// The key of a rank_pattern / alpha_pattern entry that applies to <paramref name="path"/>: PEFT treats each key
    /// as a regex that must match the end of the path at a "." boundary. Null when none does.
    /// </summary>
    public static string? PatternKeyFor(IEnumerable<string> keys, string path) =>
        keys.FirstOrDefault(key => System.Text.RegularExpressions.Regex.IsMatch(path, $@"^(?:.*\.)?(?:{key})$"));

    /// <summary>A readable description for messages.</summary>
    public override string ToString() =>
        Regex ?? (Names is null ? "(none)" : $"[{string.Join(", ", Names)}]");
}
