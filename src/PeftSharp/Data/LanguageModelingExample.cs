namespace PeftSharp.Data;

/// <summary>
/// Text for language modelling: plain text (every token is predicted), or a prompt and a completion (only the
/// completion's tokens are predicted).
/// </summary>
/// <param name="Text">The plain text, or the completion when <paramref name="Prompt"/> is set.</param>
/// <param name="Prompt">The prompt, or null for plain text.</param>
/// <param name="Source">Where the example was read.</param>
public sealed record LanguageModelingExample(string Text, string? Prompt, SourceLocation Source);
