namespace PeftSharp.Data.Catalog;

/// <summary>What a catalog dataset's JSONL records hold.</summary>
public enum DatasetKind
{
    /// <summary>{"text", "label"}: read with <see cref="DatasetReader.ReadTextClassification"/>.</summary>
    TextClassification,

    /// <summary>{"tokens", "labels"}: read with <see cref="DatasetReader.ReadTokenClassification"/>.</summary>
    TokenClassification,

    /// <summary>{"text"}: read with <see cref="DatasetReader.ReadLanguageModeling"/>.</summary>
    LanguageModeling,
}
