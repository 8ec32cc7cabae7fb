using System.Text.Json;

namespace PeftSharp.Tokenization;

/// <summary>
/// A JSON value read from a tokenizer file together with the file and the path of the value, so that every
/// error names both ("tokenizer.json: field 'model.merges[3]': ...") instead of surfacing a raw JsonException.
/// </summary>
readonly struct JsonField
{
    static readonly JsonDocumentOptions Options = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    public JsonField(JsonElement value, string file, string path)
    {
        Value = value;
        File = file;
        Path = path;
    }

    public JsonElement Value { get; }

    /// <summary>The file the value came from.</summary>
    public string File { get; }

    /// <summary>Dotted path of the value inside the file; empty for the root.</summary>
    public string Path { get; }

    public JsonValueKind Kind => Value.ValueKind;

    /// <summary>Parses a whole JSON file.</summary>
    /// <exception cref="TokenizerException">Missing or unreadable file, or not JSON.</exception>
    public static JsonField ParseFile(string path)
    {
        if (!System.IO.File.Exists(path)) throw TokenizerErrors.At(path, null, "file not found");
        try
        {
            using var stream = System.IO.File.OpenRead(path);
            using var document = JsonDocument.Parse(stream, Options);
            return new JsonField(document.RootElement.Clone(), path, "");
        }
        catch (JsonException e)
        {
            throw TokenizerErrors.At(path, null, $"not valid JSON ({e.Message})", e);
        }
        catch (IOException e)
        {
            throw TokenizerErrors.At(path, null, $"cannot be read ({e.Message})", e);
        }
    }

    public TokenizerException Error(string message, Exception? inner = null) => TokenizerErrors.At(File, Path, message, inner);

    string Child(string name) => Path.Length == 0 ? name : $"{Path}.{name}";

    /// <summary>The member <paramref name="name"/>, or null when absent or JSON null.</summary>
    public JsonField? Get(string name)
    {
        if (Value.ValueKind != JsonValueKind.Object) throw Error($"must be an object, found {Describe(Value.ValueKind)}");
        return Value.TryGetProperty(name, out var member) && member.ValueKind != JsonValueKind.Null
            ? new JsonField(member, File, Child(name))
            : null;
    }

    public JsonField Require(string name) => Get(name) ?? throw TokenizerErrors.At(File, Child(name), "is missing");

    public bool Has(string name) => Get(name) is not null;

    public string AsString() => Value.ValueKind == JsonValueKind.String
        ? Value.GetString()!
        : throw Error($"must be a string, found {Describe(Value.ValueKind)}");

    public bool AsBool() => Value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        var kind => throw Error($"must be true or false, found {Describe(kind)}"),
    };

    public int AsInt() => Value.ValueKind == JsonValueKind.Number && Value.TryGetInt32(out int value)
        ? value
        : throw Error($"must be a 32-bit integer, found {Describe(Value.ValueKind)} {Value.GetRawText()}");

    public double AsDouble() => Value.ValueKind == JsonValueKind.Number
        ? Value.GetDouble()
        : throw Error($"must be a number, found {Describe(Value.ValueKind)}");

    public string String(string name) => Require(name).AsString();
    public string? StringOrNull(string name) => Get(name)?.AsString();
    public string String(string name, string fallback) => Get(name)?.AsString() ?? fallback;
    public bool Bool(string name, bool fallback) => Get(name)?.AsBool() ?? fallback;
    public bool? BoolOrNull(string name) => Get(name)?.AsBool();
    public int Int(string name) => Require(name).AsInt();
    public int Int(string name, int fallback) => Get(name)?.AsInt() ?? fallback;

    /// <summary>The items of an array value.</summary>
    public IEnumerable<JsonField> Items()
    {
        if (Value.ValueKind != JsonValueKind.Array) throw Error($"must be a list, found {Describe(Value.ValueKind)}");
        return ItemsCore(this);

        static IEnumerable<JsonField> ItemsCore(JsonField self)
        {
            int i = 0;
            foreach (var item in self.Value.EnumerateArray()) yield return new JsonField(item, self.File, $"{self.Path}[{i++}]");
        }
    }

    /// <summary>The members of an object value, in file order.</summary>
    public IEnumerable<(string Name, JsonField Value)> Properties()
    {
        if (Value.ValueKind != JsonValueKind.Object) throw Error($"must be an object, found {Describe(Value.ValueKind)}");
        return PropertiesCore(this);

        static IEnumerable<(string, JsonField)> PropertiesCore(JsonField self)
        {
            foreach (var member in self.Value.EnumerateObject())
                yield return (member.Name, new JsonField(member.Value, self.File, self.Child(member.Name)));
        }
    }

    static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };
}
