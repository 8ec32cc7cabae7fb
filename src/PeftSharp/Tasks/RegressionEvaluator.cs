using PeftSharp.Models;
using PeftSharp.Training;
using static TorchSharp.torch;

namespace PeftSharp.Tasks;

/// <summary>Regression: Pearson (primary) and Spearman correlation and the mean squared error ("loss" and "mse").</summary>
sealed class RegressionEvaluator(IReadOnlyList<EncodedExample> examples, int batchSize,
    Func<IReadOnlyList<EncodedExample>, ulong, TrainingBatch> collate, Func<ModelOutputs, TrainingBatch, (Tensor, long)> lossTerms)
    : TaskEvaluator(examples, batchSize, collate, lossTerms)
{
    readonly List<double> _predicted = [], _actual = [];

    public override string PrimaryMetric => "pearson";
    public override bool HigherIsBetter => true;

    protected override void Reset()
    {
        _predicted.Clear();
        _actual.Clear();
    }

    protected override void Accumulate(ModelOutputs outputs, TrainingBatch batch)
    {
        _predicted.AddRange(Floats(outputs.Logits!));
        _actual.AddRange(Floats(batch.Labels));
    }

    static IEnumerable<double> Floats(Tensor t)
    {
        using var flat = t.to(ScalarType.Float64).cpu().flatten();
        return flat.data<double>().ToArray();
    }

    protected override Dictionary<string, double> Finish(double meanLoss) => new()
    {
        ["pearson"] = _actual.Count >= 2 ? CorrelationMetrics.Pearson(_predicted, _actual) : double.NaN,
        ["spearman"] = _actual.Count >= 2 ? CorrelationMetrics.Spearman(_predicted, _actual) : double.NaN,
        ["mse"] = meanLoss,
    };
}
