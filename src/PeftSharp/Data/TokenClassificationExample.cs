namespace PeftSharp.Data;

/// <summary>A sentence as words with one tag per word (part of speech, named-entity tag, ...).</summary>
/// <param name="Tokens">The words.</param>
/// <param name="Labels">One tag per word.</param>
/// <param name="Source">Where the sentence was read.</param>
public sealed record TokenClassificationExample(IReadOnlyList<string> Tokens, IReadOnlyList<string> Labels, SourceLocation Source);
