using System.Globalization;

namespace PeftSharp.IO.Gguf;

/// <summary>
/// The key-value metadata of a GGUF file. Values are .NET values of the stored type: byte, sbyte, ushort, short,
/// uint, int, ulong, long, float, double, bool, string, or an array of one of these (an array of arrays is object[]).
/// Typed getters convert between integer widths and fail with the file and key named.
/// </summary>
public sealed class GgufMetadata
{
    readonly OrderedDictionary<string, object> _values;

    internal GgufMetadata(string path, OrderedDictionary<string, object> values)
    {
        Path = path;
        _values = values;
    }

    /// <summary>The file the metadata came from, for messages.</summary>
    public string Path { get; }

    /// <summary>Keys in file order.</summary>
    public IEnumerable<string> Keys => _values.Keys;

    public int Count => _values.Count;

    public bool Contains(string key) => _values.ContainsKey(key);

    /// <summary>The raw value of <paramref name="key"/>.</summary>
    /// <exception cref="CheckpointFormatException">The key is absent.</exception>
    public object this[string key] => _values.TryGetValue(key, out var value) ? value : throw Error(key, "is required but missing");

    /// <summary>A string value.</summary>
    public string String(string key) => this[key] as string ?? throw Error(key, $"must be a string, found {Describe(this[key])}");

    public string? StringOrNull(string key) => Contains(key) ? String(key) : null;

    /// <summary>An integer value of any stored width.</summary>
    public long Integer(string key) => this[key] switch
    {
        byte v => v, sbyte v => v, ushort v => v, short v => v, uint v => v, int v => v, long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        var other => throw Error(key, $"must be an integer, found {Describe(other)}"),
    };

    public long? IntegerOrNull(string key) => Contains(key) ? Integer(key) : null;

    /// <summary>An integer value that must fit an int and lie in [<paramref name="min"/>, int.MaxValue].</summary>
    public int Int32(string key, int min = int.MinValue)
    {
        long value = Integer(key);
        return value >= min && value <= int.MaxValue ? (int)value : throw Error(key, $"is {value}, outside [{min}, {int.MaxValue}]");
    }

    /// <summary>
    /// A floating-point (or integer) value. A float32 becomes the shortest decimal that round-trips it, so a value
    /// written as 1e-5 reads back as 1e-5, not 9.999999747378752e-06.
    /// </summary>
    public double Double(string key) => this[key] switch
    {
        float v => double.Parse(v.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
        double v => v,
        string or bool or System.Array => throw Error(key, $"must be a number, found {Describe(this[key])}"),
        _ => Integer(key),
    };

    public double? DoubleOrNull(string key) => Contains(key) ? Double(key) : null;

    public bool Bool(string key) => this[key] as bool? ?? throw Error(key, $"must be a bool, found {Describe(this[key])}");

    /// <summary>An array whose elements have the .NET type <typeparamref name="T"/> (e.g. string, float, int).</summary>
    public T[] ArrayOf<T>(string key) => this[key] as T[] ?? throw Error(key, $"must be an array of {typeof(T).Name}, found {Describe(this[key])}");

    CheckpointFormatException Error(string key, string message) => new(Path, $"metadata '{key}' {message}");

    static string Describe(object value) => value switch
    {
        System.Array array => $"an array of {array.Length} {array.GetType().GetElementType()!.Name}",
        string s => $"the string '{(s.Length > 40 ? s[..40] + "..." : s)}'",
        _ => $"{value.GetType().Name} {Convert.ToString(value, CultureInfo.InvariantCulture)}",
    };
}
