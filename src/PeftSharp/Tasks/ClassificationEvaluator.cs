using PeftSharp.Models;
using PeftSharp.Training;
using static TorchSharp.torch;

namespace PeftSharp.Tasks;

/// <summary>Sequence classification: accuracy (primary), macro-F1 and MCC of the argmax predictions.</summary>
sealed class ClassificationEvaluator(IReadOnlyList<EncodedExample> examples, int batchSize,
    Func<IReadOnlyList<EncodedExample>, ulong, TrainingBatch> collate, Func<ModelOutputs, TrainingBatch, (Tensor, long)> lossTerms)
    : TaskEvaluator(examples, batchSize, collate, lossTerms)
{
    readonly List<int> _predicted = [], _actual = [];

    public override string PrimaryMetric => "accuracy";
    public override bool HigherIsBetter => true;

    protected override void Reset()
    {
        _predicted.Clear();
        _actual.Clear();
    }

    protected override void Accumulate(ModelOutputs outputs, TrainingBatch batch)
    {
        _predicted.AddRange(Values(outputs.Logits!.argmax(-1)).Select(v => (int)v));
        _actual.AddRange(Values(batch.Labels).Select(v => (int)v));
    }

    protected override Dictionary<string, double> Finish(double meanLoss) => new()
    {
        ["accuracy"] = ClassificationMetrics.Accuracy(_predicted, _actual),
        ["macro_f1"] = ClassificationMetrics.MacroF1(_predicted, _actual),
        ["mcc"] = ClassificationMetrics.MatthewsCorrelation(_predicted, _actual),
    };
}
