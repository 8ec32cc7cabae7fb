namespace PeftSharp.IO.Pickle;

/// <summary>A Python dict or OrderedDict from a pickle, in insertion order. Keys are strings, integers, floats, bools or tuples.</summary>
internal sealed class PickleDict
{
    readonly OrderedDictionary<object, object?> _items = new();

    /// <summary>Entries in insertion order.</summary>
    public IEnumerable<KeyValuePair<object, object?>> Items => _items;

    public int Count => _items.Count;

    /// <summary>Adds or replaces an entry, as Python's <c>d[key] = value</c>.</summary>
    /// <exception cref="InvalidDataException">A key Python could not hash (list, dict) or None.</exception>
    public void Set(object? key, object? value)
    {
        if (key is null or List<object?> or PickleDict)
            throw new InvalidDataException($"pickle uses {(key is null ? "None" : "a " + key.GetType().Name)} as a dict key, which this reader does not accept");
        _items[key] = value;
    }
}
