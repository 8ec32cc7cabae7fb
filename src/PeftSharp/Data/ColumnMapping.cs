namespace PeftSharp.Data;

/// <summary>
/// Which column (CSV/TSV header name, or JSON field) holds each part of an example. Without a header, columns are
/// named by their 0-based index ("0", "1", ...).
/// </summary>
public sealed record ColumnMapping
{
    /// <summary>Classification and language modelling: the (first) text.</summary>
    public string Text { get; init; } = "text";

    /// <summary>Classification: the second text of a pair. Optional: a file without this column holds single texts.</summary>
    public string TextPair { get; init; } = "text_pair";

    /// <summary>Classification: the label (a string or an integer; a number for regression).</summary>
    public string Label { get; init; } = "label";

    /// <summary>Token classification (JSONL): the list of words.</summary>
    public string Tokens { get; init; } = "tokens";

    /// <summary>Token classification (JSONL): the list of tags, one per word.</summary>
    public string TokenLabels { get; init; } = "labels";

    /// <summary>Language modelling: the prompt of a prompt/completion pair (no loss on it).</summary>
    public string Prompt { get; init; } = "prompt";

    /// <summary>Language modelling: the completion the loss is computed on.</summary>
    public string Completion { get; init; } = "completion";

    /// <summary>The default names: text, text_pair, label, tokens, labels, prompt, completion.</summary>
    public static ColumnMapping Default { get; } = new();
}
