namespace PeftSharp.Tokenization;

/// <summary>Builds <see cref="TokenizerException"/>s whose message names the file and, when known, the field.</summary>
static class TokenizerErrors
{
    /// <summary>"file: field 'path': message", the same shape as <see cref="ConfigException"/> messages.</summary>
    public static TokenizerException At(string file, string? field, string message, Exception? inner = null)
        => new($"{file}: {(string.IsNullOrEmpty(field) ? "" : $"field '{field}': ")}{message}", inner);
}
