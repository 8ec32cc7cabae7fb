using PeftSharp.Models;
using PeftSharp.Training;
using static TorchSharp.torch;

namespace PeftSharp.Tasks;

/// <summary>
/// Language models: mean token loss (primary, lower is better), perplexity = exp(mean token loss) and the share of
/// predicted tokens whose argmax is right. <paramref name="shifted"/>: causal models predict the next position's label.
/// </summary>
sealed class LanguageModelEvaluator(IReadOnlyList<EncodedExample> examples, int batchSize,
    Func<IReadOnlyList<EncodedExample>, ulong, TrainingBatch> collate, Func<ModelOutputs, TrainingBatch, (Tensor, long)> lossTerms, bool shifted)
    : TaskEvaluator(examples, batchSize, collate, lossTerms)
{
    long _correct, _counted;

    public override string PrimaryMetric => "loss";
    public override bool HigherIsBetter => false;

    protected override void Reset() => (_correct, _counted) = (0, 0);

    protected override void Accumulate(ModelOutputs outputs, TrainingBatch batch)
    {
        var predicted = outputs.Logits!.argmax(-1);                               // [B, T]
        var labels = batch.Labels;
        if (shifted)
        {
            predicted = predicted[.., ..^1];
            labels = labels[.., 1..];
        }
        var counted = labels.ne(BatchTensors.IgnoreIndex);
        _counted += counted.sum().item<long>();
        _correct += predicted.eq(labels).logical_and(counted).sum().item<long>();
    }

    protected override Dictionary<string, double> Finish(double meanLoss) => new()
    {
        ["perplexity"] = LanguageModelMetrics.Perplexity(meanLoss),
        ["token_accuracy"] = _counted > 0 ? (double)_correct / _counted : double.NaN,
    };
}
