namespace PeftSharp.Data;

/// <summary>
/// The files of a dataset: a training file, and validation and test files when there are; without a validation
/// file, <see cref="ValidationFraction"/> of the training file is held out (deterministically, by <see cref="SplitSeed"/>).
/// </summary>
/// <param name="Train">The training file.</param>
public sealed record DatasetFiles(string Train)
{
    /// <summary>The validation file, or null to split one off the training file.</summary>
    public string? Validation { get; init; }

    /// <summary>The test file, or null.</summary>
    public string? Test { get; init; }

    /// <summary>Format and columns, used for every file.</summary>
    public DataReadOptions Read { get; init; } = DataReadOptions.Default;

    /// <summary>Share of the training file held out when there is no validation file.</summary>
    public double ValidationFraction { get; init; } = 0.1;

    /// <summary>Seed of the held-out split.</summary>
    public long SplitSeed { get; init; } = 42;

    /// <summary>Reads classification examples from every file.</summary>
    public DataSplits<TextClassificationExample> LoadTextClassification() => Load(DatasetReader.ReadTextClassification);

    /// <summary>Reads token classification examples from every file.</summary>
    public DataSplits<TokenClassificationExample> LoadTokenClassification() => Load(DatasetReader.ReadTokenClassification);

    /// <summary>Reads language-modelling examples from every file.</summary>
    public DataSplits<LanguageModelingExample> LoadLanguageModeling() => Load(DatasetReader.ReadLanguageModeling);

    DataSplits<T> Load<T>(Func<string, DataReadOptions, IReadOnlyList<T>> read)
    {
        var train = read(Train, Read);
        var test = Test is null ? null : read(Test, Read);
        if (Validation is not null) return new DataSplits<T>(train, read(Validation, Read), test);
        var (kept, heldOut) = DataSplitter.Split(train, ValidationFraction, SplitSeed);
        return new DataSplits<T>(kept, heldOut, test);
    }
}
