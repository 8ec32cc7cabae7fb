using System.Text.Json;

namespace PeftSharp.Data.Catalog;

/// <summary>Reading required fields of the packages' JSON files, with errors naming file and field.</summary>
static class JsonFields
{
    public static JsonElement Parse(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, null, null, $"malformed JSON ({e.Message})", e);
        }
    }

    public static JsonElement Field(JsonElement obj, string field, string path) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(field, out var value) ? value
            : throw new DataFormatException(path, null, field, "missing");

    public static string String(JsonElement obj, string field, string path) =>
        Field(obj, field, path) is { ValueKind: JsonValueKind.String } value && value.GetString() is { Length: > 0 } text
            ? text
            : throw new DataFormatException(path, null, field, "must be a non-empty string");

    public static int Int(JsonElement obj, string field, string path) =>
        Field(obj, field, path) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt32(out int number)
            ? number
            : throw new DataFormatException(path, null, field, "must be an integer");

    public static List<string> Strings(string path)
    {
        var root = Parse(path);
        if (root.ValueKind != JsonValueKind.Array) throw new DataFormatException(path, null, null, "must be a JSON array of strings");
        return root.EnumerateArray().Select((item, i) => item.ValueKind == JsonValueKind.String ? item.GetString()!
            : throw new DataFormatException(path, null, $"[{i}]", "must be a string")).ToList();
    }
}
