using System.Text.RegularExpressions;

namespace PeftSharp.Cli.Inspection;

/// <summary>
/// Collapses module paths that differ only in block numbers: "model.layers.0.mlp" ... "model.layers.4.mlp" becomes
/// "model.layers.0-4.mlp" (non-contiguous numbers read "0,2,4" or "0-2,5").
/// </summary>
static partial class PathGroups
{
    [GeneratedRegex(@"(?<=^|\.)\d+(?=\.|$)")]
    private static partial Regex NumberSegment();

    /// <summary>Groups items whose paths have the same shape and whose <paramref name="key"/> agrees; order of first appearance.</summary>
    public static List<(string Path, List<T> Items)> Group<T>(IEnumerable<T> items, Func<T, string> path, Func<T, string> key)
    {
        var groups = new List<(string Template, string Key, List<T> Items)>();
        foreach (var item in items)
        {
            string template = NumberSegment().Replace(path(item), "#");
            string k = key(item);
            int at = groups.FindIndex(g => g.Template == template && g.Key == k);
            if (at < 0) groups.Add((template, k, new List<T> { item }));
            else groups[at].Items.Add(item);
        }
        return groups.Select(g => (Render(g.Items.Select(path).ToList()), g.Items)).ToList();
    }

    /// <summary>One path with each numbered segment replaced by the ranges of numbers the paths hold there.</summary>
    static string Render(List<string> paths)
    {
        var numbers = paths.Select(p => NumberSegment().Matches(p).Select(m => int.Parse(m.Value)).ToList()).ToList();
        int position = 0;
        return NumberSegment().Replace(paths[0], _ =>
        {
            int index = position++;
            return Ranges(numbers.Select(n => n[index]).Distinct().Order().ToList());
        });
    }

    /// <summary>"0-4", "0,2,4", "0-2,5".</summary>
    public static string Ranges(IReadOnlyList<int> sorted)
    {
        var parts = new List<string>();
        for (int i = 0; i < sorted.Count;)
        {
            int j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(j > i ? $"{sorted[i]}-{sorted[j]}" : sorted[i].ToString());
            i = j + 1;
        }
        return string.Join(",", parts);
    }
}
