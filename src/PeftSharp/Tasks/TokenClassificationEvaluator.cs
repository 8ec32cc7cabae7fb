using PeftSharp.Models;
using PeftSharp.Training;
using static TorchSharp.torch;

namespace PeftSharp.Tasks;

/// <summary>Token classification: accuracy over labelled words (primary) and macro-F1 over tags.</summary>
sealed class TokenClassificationEvaluator(IReadOnlyList<EncodedExample> examples, int batchSize,
    Func<IReadOnlyList<EncodedExample>, ulong, TrainingBatch> collate, Func<ModelOutputs, TrainingBatch, (Tensor, long)> lossTerms)
    : TaskEvaluator(examples, batchSize, collate, lossTerms)
{
    readonly List<int> _predicted = [], _actual = [];

    public override string PrimaryMetric => "token_accuracy";
    public override bool HigherIsBetter => true;

    protected override void Reset()
    {
        _predicted.Clear();
        _actual.Clear();
    }

    protected override void Accumulate(ModelOutputs outputs, TrainingBatch batch)
    {
        var predicted = Values(outputs.Logits!.argmax(-1));                      // [B*T]
        var actual = Values(batch.Labels);                                        // [B*T], -100 where ignored
        for (int i = 0; i < actual.Length; i++)
        {
            if (actual[i] == BatchTensors.IgnoreIndex) continue;
            _predicted.Add((int)predicted[i]);
            _actual.Add((int)actual[i]);
        }
    }

    protected override Dictionary<string, double> Finish(double meanLoss) => _actual.Count == 0
        ? new() { ["token_accuracy"] = double.NaN, ["macro_f1"] = double.NaN }
        : new()
        {
            ["token_accuracy"] = ClassificationMetrics.Accuracy(_predicted, _actual),
            ["macro_f1"] = ClassificationMetrics.MacroF1(_predicted, _actual),
        };
}
