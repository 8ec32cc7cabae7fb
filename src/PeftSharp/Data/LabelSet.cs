using System.Globalization;

namespace PeftSharp.Data;

/// <summary>
/// The labels of a classification task and their ids (id = position). Gathered from the training data, or given;
/// evaluation data may only use known labels.
/// </summary>
public sealed class LabelSet
{
    readonly Dictionary<string, int> _ids;

    LabelSet(IReadOnlyList<string> names)
    {
        Names = names;
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(names[i])) throw new ArgumentException($"label {i} is empty", nameof(names));
            if (!_ids.TryAdd(names[i], i)) throw new ArgumentException($"label '{names[i]}' is listed twice", nameof(names));
        }
    }

    /// <summary>Label names by id.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Number of labels.</summary>
    public int Count => Names.Count;

    /// <summary>The given labels, in the given order (id = position).</summary>
    /// <exception cref="ArgumentException">Empty, blank or repeated labels.</exception>
    public static LabelSet Of(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var list = names.ToList();
        return list.Count > 0 ? new LabelSet(list) : throw new ArgumentException("a label set needs at least one label", nameof(names));
    }

    /// <summary>
    /// The distinct labels seen, sorted: numerically when every label is an integer (so "0", "1", ..., "10" keep
    /// their ids), otherwise by ordinal string order.
    /// </summary>
    public static LabelSet Gather(IEnumerable<string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var distinct = labels.Distinct(StringComparer.Ordinal).ToList();
        bool numeric = distinct.All(l => long.TryParse(l, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _));
        var sorted = numeric
            ? distinct.OrderBy(l => long.Parse(l, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)).ToList()
            : distinct.OrderBy(l => l, StringComparer.Ordinal).ToList();
        return Of(sorted);
    }

    /// <summary>The labels of classification examples (see <see cref="Gather(IEnumerable{string})"/>).</summary>
    public static LabelSet Gather(IEnumerable<TextClassificationExample> examples) => Gather(examples.Select(e => e.Label));

    /// <summary>The tags of token classification examples (see <see cref="Gather(IEnumerable{string})"/>).</summary>
    public static LabelSet Gather(IEnumerable<TokenClassificationExample> examples) => Gather(examples.SelectMany(e => e.Labels));

    /// <summary>The id of <paramref name="label"/>, or null when it is not in the set.</summary>
    public int? TryGetId(string label) => _ids.TryGetValue(label, out int id) ? id : null;

    /// <summary>The id of a label read at <paramref name="source"/>.</summary>
    /// <exception cref="DataFormatException">The label is unknown (names the file, line and field).</exception>
    public int IdOf(string label, SourceLocation source, string field) => TryGetId(label)
        ?? throw source.Error(field, $"unknown label '{label}' (known: {string.Join(", ", Names.Take(20))}{(Count > 20 ? ", ..." : "")})");

    /// <summary>How often each label occurs in <paramref name="labels"/>, in id order (unknown labels are not counted).</summary>
    public IReadOnlyDictionary<string, int> Tally(IEnumerable<string> labels)
    {
        var counts = Names.ToDictionary(n => n, _ => 0, StringComparer.Ordinal);
        foreach (string label in labels)
            if (counts.ContainsKey(label)) counts[label]++;
        return counts;
    }
}
