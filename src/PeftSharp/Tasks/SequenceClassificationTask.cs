using System.Globalization;
using PeftSharp.Data;
using PeftSharp.Models;
using PeftSharp.Tokenization;
using PeftSharp.Training;
using static TorchSharp.torch;

namespace PeftSharp.Tasks;

/// <summary>
/// Sequence classification of a text or a pair of texts (BERT: [CLS] a [SEP] b [SEP]; decoders: the model's
/// last-token head): cross-entropy over the labels, or for one label (regression) the mean squared error.
/// Inputs longer than <see cref="BatchingOptions.MaxLength"/> are truncated, longest text first.
/// </summary>
public sealed class SequenceClassificationTask : TrainingTask<TextClassificationExample>
{
    SequenceClassificationTask(PretrainedTokenizer tokenizer, LabelSet? labels, BatchingOptions? batching) : base(tokenizer, batching)
    {
        Labels = labels;
    }

    /// <summary>Classification into <paramref name="labels"/> (label ids are their positions).</summary>
    public static SequenceClassificationTask Classification(PretrainedTokenizer tokenizer, LabelSet labels, BatchingOptions? batching = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return new SequenceClassificationTask(tokenizer, labels, batching);
    }

    /// <summary>Regression onto one number per example (labels are numbers; MSE loss; Pearson and Spearman metrics).</summary>
    public static SequenceClassificationTask Regression(PretrainedTokenizer tokenizer, BatchingOptions? batching = null) =>
        new(tokenizer, null, batching);

    /// <summary>The classes, or null for regression.</summary>
    public LabelSet? Labels { get; }

    /// <summary>True when the single output is a regression score.</summary>
    public bool IsRegression => Labels is null;

    /// <summary>Outputs the head needs: the number of classes, or 1 for regression.</summary>
    public int NumLabels => Labels?.Count ?? 1;

    public override ModelTask Head => ModelTask.SequenceClassification;

    public override IEvaluator Evaluator(IReadOnlyList<TextClassificationExample> examples)
    {
        var encoded = Encode(examples);
        return IsRegression
            ? new RegressionEvaluator(encoded, Batching.BatchSize, Collate, LossTerms)
            : new ClassificationEvaluator(encoded, Batching.BatchSize, Collate, LossTerms);
    }

    private protected override IEnumerable<EncodedExample> EncodeExample(TextClassificationExample example)
    {
        var encoded = Tokenizer.Encode(example.Text, example.TextPair, addSpecialTokens: true, maxLength: Batching.MaxLength);
        var ids = encoded.Ids.ToArray();
        var types = encoded.TokenTypeIds.ToArray();
        if (Labels is { } labels) yield return new EncodedExample(ids, types, Label: labels.IdOf(example.Label, example.Source, "label"));
        else yield return new EncodedExample(ids, types, Target: ParseTarget(example));
    }

    static float ParseTarget(TextClassificationExample example) =>
        float.TryParse(example.Label, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && float.IsFinite(value)
            ? value
            : throw example.Source.Error("label", $"'{example.Label}' is not a number (regression labels are numbers)");

    private protected override TrainingBatch Collate(IReadOnlyList<EncodedExample> rows, ulong seed)
    {
        var labels = IsRegression
            ? tensor(rows.Select(r => r.Target).ToArray(), ScalarType.Float32)
            : tensor(rows.Select(r => r.Label).ToArray(), ScalarType.Int64);
        return new TrainingBatch(BatchTensors.Inputs(rows, PadId), labels, rows.Count);
    }

    private protected override (Tensor Sum, long Count) LossTerms(ModelOutputs outputs, TrainingBatch batch)
    {
        var logits = LogitsOf(outputs);                                           // [B, labels]
        if (!IsRegression) return CrossEntropy(logits, batch.Labels);
        var predicted = logits.to(ScalarType.Float32).reshape(-1);                // [B]: the single output
        return (nn.functional.mse_loss(predicted, batch.Labels.to(ScalarType.Float32), nn.Reduction.Sum), batch.Examples);
    }
}
