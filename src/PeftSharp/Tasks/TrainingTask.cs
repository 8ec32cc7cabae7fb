using PeftSharp.Models;
using PeftSharp.Tokenization;
using PeftSharp.Training;
using static TorchSharp.torch;

namespace PeftSharp.Tasks;

/// <summary>
/// A fine-tuning task: turns examples into padded batches (<see cref="Batches"/>), defines the loss
/// (<see cref="Loss"/>) and scores a model on held-out examples (<see cref="Evaluator"/>). The model must carry the
/// head named by <see cref="Head"/>; encoders and decoders both work.
/// </summary>
/// <typeparam name="TExample">The examples the task reads.</typeparam>
public abstract class TrainingTask<TExample> : ITrainingObjective
{
    private protected TrainingTask(PretrainedTokenizer tokenizer, BatchingOptions? batching)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        Tokenizer = tokenizer;
        Batching = batching ?? BatchingOptions.Default;
    }

    /// <summary>The tokenizer that encodes the examples.</summary>
    public PretrainedTokenizer Tokenizer { get; }

    /// <summary>Batch size, maximum length and bucketing.</summary>
    public BatchingOptions Batching { get; }

    /// <summary>The head the model needs for this task.</summary>
    public abstract ModelTask Head { get; }

    /// <summary>Mean loss over the batch's counted labels (examples, or tokens not labelled -100), in float32.</summary>
    public Tensor Loss(ModelOutputs outputs, TrainingBatch batch)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(batch);
        var (sum, count) = LossTerms(outputs, batch);
        return sum / Math.Max(count, 1);
    }

    /// <summary>Encodes <paramref name="examples"/> once and returns their batches, reproducible from (epoch, seed).</summary>
    /// <exception cref="Data.DataFormatException">An example cannot be encoded (e.g. an unknown label).</exception>
    public IBatchSource Batches(IReadOnlyList<TExample> examples) => new ExampleBatchSource(Encode(examples), Batching, Collate);

    /// <summary>Encodes <paramref name="examples"/> once and returns an evaluator over them.</summary>
    /// <exception cref="Data.DataFormatException">An example cannot be encoded (e.g. a label the training data lacks).</exception>
    public abstract IEvaluator Evaluator(IReadOnlyList<TExample> examples);

    /// <summary>The examples as token ids (a long language-modelling text may give several).</summary>
    internal List<EncodedExample> Encode(IReadOnlyList<TExample> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var encoded = examples.SelectMany(EncodeExample).ToList();
        return encoded.Count > 0 ? encoded : throw new ArgumentException("no examples to encode", nameof(examples));
    }

    private protected abstract IEnumerable<EncodedExample> EncodeExample(TExample example);

    /// <summary>Pads a batch; <paramref name="seed"/> drives anything random inside it.</summary>
    private protected abstract TrainingBatch Collate(IReadOnlyList<EncodedExample> rows, ulong seed);

    /// <summary>The summed loss and the number of labels it sums over.</summary>
    private protected abstract (Tensor Sum, long Count) LossTerms(ModelOutputs outputs, TrainingBatch batch);

    /// <summary>Padding id: the pad token, else EOS (GPT-2 has no pad token), else 0; masked out either way.</summary>
    private protected long PadId => Tokenizer.PadTokenId ?? Tokenizer.EosTokenId ?? 0;

    private protected static Tensor LogitsOf(ModelOutputs outputs) =>
        outputs.Logits ?? throw new InvalidOperationException("the model produced no logits; it needs a task head");

    /// <summary>Summed cross-entropy of logits [N, C] against labels [N], -100 ignored, with the number of counted labels.</summary>
    private protected static (Tensor Sum, long Count) CrossEntropy(Tensor logits, Tensor labels)
    {
        var sum = nn.functional.cross_entropy(logits.to(ScalarType.Float32), labels, ignore_index: BatchTensors.IgnoreIndex, reduction: nn.Reduction.Sum);
        using var counted = labels.ne(BatchTensors.IgnoreIndex);
        return (sum, counted.sum().item<long>());
    }
}
