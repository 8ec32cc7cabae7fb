namespace PeftSharp.Data;

/// <summary>The layout of a data file.</summary>
public enum DataFileFormat
{
    /// <summary>One JSON object per line (.jsonl, .ndjson, .json).</summary>
    Jsonl,

    /// <summary>Comma-separated values with RFC 4180 quoting (.csv).</summary>
    Csv,

    /// <summary>
    /// Tab-separated values without quoting, as GLUE's .tsv files are read: a quote character is part of the text (.tsv, .tab).
    /// </summary>
    Tsv,

    /// <summary>CoNLL-style token classification: "token&lt;TAB&gt;tag" lines, sentences separated by blank lines.</summary>
    Conll,

    /// <summary>Plain text for language modelling: every non-blank line is one example (.txt).</summary>
    Text,
}
