using PeftSharp.Models;
using static TorchSharp.torch;

namespace PeftSharp.Training;

/// <summary>
/// One batch for training or evaluation: the model's inputs and the labels the task's loss compares with.
/// Labels are int64: [B] class ids (sequence classification), [B, T] token labels with -100 where ignored
/// (token classification, language modelling), or float [B] targets (regression).
/// </summary>
public sealed class TrainingBatch : IDisposable
{
    public TrainingBatch(ModelInputs inputs, Tensor labels, int examples)
    {
        Inputs = inputs;
        Labels = labels;
        Examples = examples;
    }

    public ModelInputs Inputs { get; }
    public Tensor Labels { get; }

    /// <summary>Number of examples (rows) in the batch.</summary>
    public int Examples { get; }

    /// <summary>Real (unpadded) tokens in the batch, for throughput figures.</summary>
    public long Tokens => Inputs.AttentionMask is { } mask ? mask.sum().item<long>() : Inputs.Shape().Batch * Inputs.Shape().Length;

    public void Dispose()
    {
        Inputs.InputIds?.Dispose();
        Inputs.InputsEmbeds?.Dispose();
        Inputs.AttentionMask?.Dispose();
        Inputs.TokenTypeIds?.Dispose();
        Inputs.PositionIds?.Dispose();
        Labels.Dispose();
    }
}

/// <summary>The loss a task trains with: a scalar from the model's outputs and the batch's labels.</summary>
public interface ITrainingObjective
{
    /// <summary>Mean loss over the batch's counted labels (a scalar tensor that requires grad).</summary>
    Tensor Loss(ModelOutputs outputs, TrainingBatch batch);
}

/// <summary>
/// Batches of a dataset, reproducible from (epoch, seed) so that a resumed run can skip to its position and see
/// exactly the batches an uninterrupted run would.
/// </summary>
public interface IBatchSource
{
    /// <summary>Batches in one epoch.</summary>
    int BatchesPerEpoch { get; }

    /// <summary>The batches of epoch <paramref name="epoch"/> in the order they are trained, shuffled from <paramref name="seed"/>.</summary>
    IEnumerable<TrainingBatch> Epoch(int epoch, long seed);
}

/// <summary>Scores a model on held-out data.</summary>
public interface IEvaluator
{
    /// <summary>Name of the metric that decides the best checkpoint and early stopping (e.g. "accuracy", "loss").</summary>
    string PrimaryMetric { get; }

    /// <summary>True when larger is better for <see cref="PrimaryMetric"/> (accuracy), false when smaller is (loss).</summary>
    bool HigherIsBetter { get; }

    /// <summary>Metrics by name, computed in eval mode without gradients.</summary>
    IReadOnlyDictionary<string, double> Evaluate(nn.Module<ModelInputs, ModelOutputs> model);
}
