namespace PeftSharp.Data;

/// <summary>A text (or a pair of texts) with its label; for regression the label is a number written as text.</summary>
/// <param name="Text">The (first) text.</param>
/// <param name="TextPair">The second text of a pair, or null.</param>
/// <param name="Label">The label as written in the file ("positive", "1", "3.8").</param>
/// <param name="Source">Where the example was read.</param>
public sealed record TextClassificationExample(string Text, string? TextPair, string Label, SourceLocation Source);
