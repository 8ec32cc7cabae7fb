using PeftSharp.Data;
using PeftSharp.Models;
using PeftSharp.Tokenization;
using PeftSharp.Training;
using static TorchSharp.torch;

namespace PeftSharp.Tasks;

/// <summary>
/// Masked language modelling (encoders, BERT-style): each non-special token is chosen with probability 0.15 and
/// predicted; a chosen token is shown as the mask token (80%), a random token (10%) or itself (10%); the others are
/// -100. Masks are drawn per batch from a seed derived from (seed, epoch, batch), so a resumed run sees the masks an
/// uninterrupted one would; evaluation batches always use the same masks. Texts longer than
/// <see cref="BatchingOptions.MaxLength"/> are cut into several examples.
/// </summary>
public sealed class MaskedLanguageModelingTask : TrainingTask<LanguageModelingExample>
{
    readonly SpecialTokenFrame _frame;
    readonly int _maskId;

    /// <exception cref="ArgumentException">The tokenizer has no mask token.</exception>
    public MaskedLanguageModelingTask(PretrainedTokenizer tokenizer, BatchingOptions? batching = null, MaskingOptions? masking = null) : base(tokenizer, batching)
    {
        _maskId = tokenizer.MaskTokenId ?? throw new ArgumentException("masked language modelling needs a tokenizer with a mask token", nameof(tokenizer));
        Masking = masking ?? MaskingOptions.Default;
        if (Masking.MaskFraction + Masking.RandomFraction > 1)
            throw new ArgumentException($"mask ({Masking.MaskFraction}) and random ({Masking.RandomFraction}) fractions add up to more than 1", nameof(masking));
        _frame = SpecialTokenFrame.Of(tokenizer);
    }

    /// <summary>The masking probabilities.</summary>
    public MaskingOptions Masking { get; }

    public override ModelTask Head => ModelTask.MaskedLM;

    public override IEvaluator Evaluator(IReadOnlyList<LanguageModelingExample> examples) =>
        new LanguageModelEvaluator(Encode(examples), Batching.BatchSize, Collate, LossTerms, shifted: false);

    private protected override IEnumerable<EncodedExample> EncodeExample(LanguageModelingExample example)
    {
        if (example.Prompt is not null) throw example.Source.Error("prompt", "masked language modelling takes plain text, not prompt/completion pairs");
        var text = Tokenizer.Encode(example.Text, addSpecialTokens: false).Ids;
        foreach (var chunk in text.Chunk(Batching.MaxLength - _frame.Count)) yield return new EncodedExample(_frame.Wrap(chunk));
    }

    private protected override TrainingBatch Collate(IReadOnlyList<EncodedExample> rows, ulong seed)
    {
        var random = new SeededRandom(seed);
        var special = Tokenizer.SpecialTokenIds;
        var inputs = new List<int[]>(rows.Count);
        var labels = new List<int[]>(rows.Count);
        foreach (var row in rows)
        {
            var ids = (int[])row.Ids.Clone();
            var rowLabels = new int[ids.Length];
            Array.Fill(rowLabels, BatchTensors.IgnoreIndex);
            for (int t = 0; t < ids.Length; t++)
            {
                if (special.Contains(ids[t]) || random.NextDouble() >= Masking.Probability) continue;
                rowLabels[t] = ids[t];
                double choice = random.NextDouble();
                if (choice < Masking.MaskFraction) ids[t] = _maskId;
                else if (choice < Masking.MaskFraction + Masking.RandomFraction) ids[t] = random.Next(Tokenizer.VocabSize);
            }
            inputs.Add(ids);
            labels.Add(rowLabels);
        }
        return new TrainingBatch(BatchTensors.Inputs(rows, PadId, inputs), BatchTensors.TokenLabels(labels), rows.Count);
    }

    private protected override (Tensor Sum, long Count) LossTerms(ModelOutputs outputs, TrainingBatch batch)
    {
        var logits = LogitsOf(outputs);                                           // [B, T, V]
        return CrossEntropy(logits.reshape(-1, logits.shape[^1]), batch.Labels.reshape(-1));
    }
}
