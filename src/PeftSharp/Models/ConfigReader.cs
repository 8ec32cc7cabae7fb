using System.Text.Json;
using System.Text.Json.Nodes;

namespace PeftSharp.Models;

/// <summary>Typed access to a JSON config object, with errors that name the source and the field.</summary>
public sealed class ConfigReader
{
    public ConfigReader(JsonObject root, string source)
    {
        Root = root;
        Source = source;
    }

    public JsonObject Root { get; }

    /// <summary>Where the JSON came from (a file path or a description), used in error messages.</summary>
    public string Source { get; }

    /// <summary>Parses a JSON file that must hold an object.</summary>
    /// <exception cref="ConfigException">Missing file, not JSON, or not an object.</exception>
    public static ConfigReader FromFile(string path)
    {
        if (!File.Exists(path)) throw new ConfigException(path, null, "file not found");
        return Parse(File.ReadAllText(path), path);
    }

    public static ConfigReader Parse(string json, string source)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new ConfigException(source, null, $"not valid JSON ({e.Message})", e);
        }
        return node is JsonObject obj ? new ConfigReader(obj, source) : throw new ConfigException(source, null, "must be a JSON object");
    }

    public bool Has(string field) => Root.TryGetPropertyValue(field, out var value) && value is not null;

    public int Int(string field) => Has(field) ? ReadInt(field) : throw Missing(field);
    public int Int(string field, int fallback) => Has(field) ? ReadInt(field) : fallback;
    public int? IntOrNull(string field) => Has(field) ? ReadInt(field) : null;

    public double Double(string field) => Has(field) ? ReadDouble(field) : throw Missing(field);
    public double Double(string field, double fallback) => Has(field) ? ReadDouble(field) : fallback;

    public bool Bool(string field, bool fallback)
    {
        if (!Has(field)) return fallback;
        return Root[field]!.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            var kind => throw new ConfigException(Source, field, $"must be true or false, found {kind}"),
        };
    }

    public string String(string field) => Has(field) ? ReadString(field) : throw Missing(field);
    public string? StringOrNull(string field) => Has(field) ? ReadString(field) : null;
    public string String(string field, string fallback) => Has(field) ? ReadString(field) : fallback;

    /// <summary>A list of strings; a lone string counts as a list of one.</summary>
    public List<string>? StringListOrNull(string field)
    {
        if (!Has(field)) return null;
        var node = Root[field]!;
        if (node.GetValueKind() == JsonValueKind.String) return new List<string> { node.GetValue<string>() };
        if (node is not JsonArray array) throw new ConfigException(Source, field, $"must be a list of strings, found {node.GetValueKind()}");
        return array.Select((item, i) => item?.GetValueKind() == JsonValueKind.String
            ? item.GetValue<string>()
            : throw new ConfigException(Source, field, $"item {i} must be a string")).ToList();
    }

    /// <summary>One int or a list of ints (e.g. "eos_token_id").</summary>
    public List<int> IntList(string field)
    {
        if (!Has(field)) return new List<int>();
        var node = Root[field]!;
        if (node is JsonArray array)
            return array.Select((item, i) => item is not null && Number(item) is double d && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue
                ? (int)d
                : throw new ConfigException(Source, field, $"item {i} must be an integer")).ToList();
        return new List<int> { ReadInt(field) };
    }

    /// <summary>A nested object, or null when absent or JSON null.</summary>
    public ConfigReader? ObjectOrNull(string field)
    {
        if (!Has(field)) return null;
        return Root[field] is JsonObject obj ? new ConfigReader(obj, $"{Source} ({field})") : throw new ConfigException(Source, field, "must be an object");
    }

    int ReadInt(string field)
    {
        var node = Root[field]!;
        if (Number(node) is double d && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue) return (int)d;
        throw new ConfigException(Source, field, $"must be an integer, found {node.ToJsonString()}");
    }

    double ReadDouble(string field)
    {
        var node = Root[field]!;
        return Number(node) ?? throw new ConfigException(Source, field, $"must be a number, found {node.ToJsonString()}");
    }

    /// <summary>
    /// The numeric value of a node, whether parsed from text (a JsonElement) or built in memory from any CLR number
    /// type (int, long, float, double, decimal); null when it is not a number.
    /// </summary>
    static double? Number(JsonNode node)
    {
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number) return null;
        if (value.TryGetValue(out double d)) return d;
        if (value.TryGetValue(out long l)) return l;
        if (value.TryGetValue(out int i)) return i;
        if (value.TryGetValue(out float f)) return f;
        if (value.TryGetValue(out decimal m)) return (double)m;
        return double.TryParse(value.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double parsed) ? parsed : null;
    }

    string ReadString(string field)
    {
        var node = Root[field]!;
        if (node.GetValueKind() == JsonValueKind.String) return node.GetValue<string>();
        throw new ConfigException(Source, field, $"must be a string, found {node.ToJsonString()}");
    }

    ConfigException Missing(string field) => new(Source, field, "is required but missing");
}
