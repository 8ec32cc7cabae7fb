namespace PeftSharp.Data.Catalog;

/// <summary>The fixed split rules of the catalog (documented in docs/data.md).</summary>
static class CatalogSplits
{
    public const string Train = "train", Validation = "validation", Test = "test";

    public static readonly string[] All = [Train, Validation, Test];

    /// <summary>Unit (document, speech, file) number <paramref name="index"/>: 4 mod 10 validation, 5 mod 10 test, else train (80/10/10).</summary>
    public static string ByIndex(int index) => (index % 10) switch
    {
        4 => Validation,
        5 => Test,
        _ => Train,
    };
}
