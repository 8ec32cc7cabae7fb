using System.CommandLine;
using PeftSharp.Data;
using PeftSharp.Data.Catalog;
using PeftSharp.Experiments;
using PeftSharp.Models;

namespace PeftSharp.Cli.Training;

/// <summary>The data options of <c>peft train</c> and <c>peft eval</c>: dataset or files, columns, task head.</summary>
sealed class DataFlags
{
    public Option<string> Data { get; } = new("--data", "-d") { Description = "Catalog dataset (see 'peft data list') or a JSONL/CSV/TSV/CoNLL/text file", HelpName = "NAME|FILE", Required = true };
    public Option<string?> Validation { get; } = new("--validation") { Description = "Validation file (with a data file; default: 10% of it held out)", HelpName = "FILE" };
    public Option<string?> Test { get; } = new("--test") { Description = "Test file (with a data file)", HelpName = "FILE" };
    public Option<string?> Task { get; } = new("--task") { Description = $"Task head: {string.Join(", ", TaskNames.All)} (default: from the data and the model)", HelpName = "NAME" };
    public Option<string?> TextColumn { get; } = new("--text-column") { Description = "Column of the text (default text)", HelpName = "NAME" };
    public Option<string?> TextPairColumn { get; } = new("--text-pair-column") { Description = "Column of the second text of a pair (default text_pair)", HelpName = "NAME" };
    public Option<string?> LabelColumn { get; } = new("--label-column") { Description = "Column of the label (default label)", HelpName = "NAME" };
    public Option<string?> TokensColumn { get; } = new("--tokens-column") { Description = "Token classification: column of the word list (default tokens)", HelpName = "NAME" };
    public Option<string?> TagsColumn { get; } = new("--tags-column") { Description = "Token classification: column of the tag list (default labels)", HelpName = "NAME" };
    public Option<string?> Cache { get; } = new("--cache") { Description = "Dataset cache folder (default: $PEFTSHARP_DATASET_CACHE or ~/.cache/peftsharp/datasets)", HelpName = "DIR" };

    public IEnumerable<Option> All => [Data, Validation, Test, Task, TextColumn, TextPairColumn, LabelColumn, TokensColumn, TagsColumn, Cache];

    /// <summary>What was given, as a value that can be stored in a run's config and read back.</summary>
    public DataChoice Read(ParseResult parse)
    {
        var defaults = ColumnMapping.Default;
        return new DataChoice(parse.GetValue(Data)!, parse.GetValue(Validation), parse.GetValue(Test), parse.GetValue(Task),
            new ColumnMapping
            {
                Text = parse.GetValue(TextColumn) ?? defaults.Text,
                TextPair = parse.GetValue(TextPairColumn) ?? defaults.TextPair,
                Label = parse.GetValue(LabelColumn) ?? defaults.Label,
                Tokens = parse.GetValue(TokensColumn) ?? defaults.Tokens,
                TokenLabels = parse.GetValue(TagsColumn) ?? defaults.TokenLabels,
            },
            parse.GetValue(Cache));
    }
}

/// <summary>The data of a run: dataset or files, columns, requested head, cache.</summary>
sealed record DataChoice(string Data, string? Validation, string? Test, string? Task, ColumnMapping Columns, string? Cache)
{
    /// <summary>
    /// Resolves the data (preparing a catalog dataset, reporting to <paramref name="stage"/>) and binds it to the head the
    /// data and the model call for.
    /// </summary>
    public (DataSource Source, ExperimentTask Task) Bind(string modelDirectory, Tokenization.PretrainedTokenizer tokenizer, int batchSize, int maxLength,
        Action<string> stage, int? maxEvaluationExamples = null, IReadOnlyList<string>? labels = null)
    {
        var source = DataSource.Resolve(Data, new DataReadOptions { Columns = Columns }, Validation, Test, Cache,
            new InlineProgress<DatasetProgress>(p => stage($"{p.Dataset}: {p.Message}")));
        var (family, config) = AutoModel.ReadConfig(modelDirectory);
        var head = ExperimentTask.ResolveHead(source.Kind, Task is null ? null : TaskNames.Parse(Task), AutoModel.TaskFromArchitectures(family, config),
            family.Tasks.Contains(ModelTask.CausalLM));
        var batching = new Tasks.BatchingOptions { BatchSize = batchSize, MaxLength = Math.Min(maxLength, config.MaxPositions) };
        return (source, ExperimentTask.Create(source, tokenizer, head, batching, maxEvaluationExamples, labels));
    }
}
