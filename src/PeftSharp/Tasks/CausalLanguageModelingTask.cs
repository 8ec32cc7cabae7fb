using PeftSharp.Data;
using PeftSharp.Models;
using PeftSharp.Tokenization;
using PeftSharp.Training;
using static TorchSharp.torch;

namespace PeftSharp.Tasks;

/// <summary>
/// Causal language modelling (decoders): labels are the input ids, shifted inside the loss so that position t
/// predicts token t+1 (Hugging Face's convention); padding is -100. Plain text is encoded with the template's
/// special tokens and EOS, and a text longer than <see cref="BatchingOptions.MaxLength"/> is cut into several
/// examples. A prompt/completion pair has -100 on the prompt, so only the completion (and its EOS) is learned;
/// when the pair is too long the completion keeps at least half the length and the prompt loses its beginning.
/// </summary>
public sealed class CausalLanguageModelingTask : TrainingTask<LanguageModelingExample>
{
    readonly SpecialTokenFrame _frame;
    readonly int? _eos;

    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="batching">Batch size, maximum length, bucketing.</param>
    /// <param name="appendEos">End every text and completion with EOS (unless the template already does), so the model learns to stop.</param>
    public CausalLanguageModelingTask(PretrainedTokenizer tokenizer, BatchingOptions? batching = null, bool appendEos = true) : base(tokenizer, batching)
    {
        _frame = SpecialTokenFrame.Of(tokenizer);
        _eos = appendEos && tokenizer.EosTokenId is int eos && !_frame.Suffix.Contains(eos) ? eos : null;
    }

    public override ModelTask Head => ModelTask.CausalLM;

    public override IEvaluator Evaluator(IReadOnlyList<LanguageModelingExample> examples) =>
        new LanguageModelEvaluator(Encode(examples), Batching.BatchSize, Collate, LossTerms, shifted: true);

    private protected override IEnumerable<EncodedExample> EncodeExample(LanguageModelingExample example)
    {
        int budget = Batching.MaxLength - _frame.Count;
        var text = Tokenizer.Encode(example.Text, addSpecialTokens: false).Ids.ToList();
        if (_eos is int eos) text.Add(eos);
        if (example.Prompt is null)
        {
            foreach (var chunk in text.Chunk(budget))
            {
                var ids = _frame.Wrap(chunk);
                if (ids.Length >= 2) yield return new EncodedExample(ids, TokenLabels: ids);
            }
            yield break;
        }

        var prompt = Tokenizer.Encode(example.Prompt, addSpecialTokens: false).Ids;
        int keepCompletion = Math.Min(text.Count, Math.Max(budget - prompt.Count, budget / 2));
        int keepPrompt = Math.Min(prompt.Count, budget - keepCompletion);
        var promptPart = prompt.Skip(prompt.Count - keepPrompt).ToArray();
        var completionPart = text.Take(keepCompletion).ToArray();
        int[] all = _frame.Wrap([.. promptPart, .. completionPart]);
        int ignored = _frame.Prefix.Length + promptPart.Length;
        var labels = all.Select((id, i) => i < ignored ? BatchTensors.IgnoreIndex : id).ToArray();
        yield return new EncodedExample(all, TokenLabels: labels);
    }

    private protected override TrainingBatch Collate(IReadOnlyList<EncodedExample> rows, ulong seed) =>
        new(BatchTensors.Inputs(rows, PadId), BatchTensors.TokenLabels(rows.Select(r => r.TokenLabels!).ToList()), rows.Count);

    private protected override (Tensor Sum, long Count) LossTerms(ModelOutputs outputs, TrainingBatch batch)
    {
        var logits = LogitsOf(outputs);                                           // [B, T, V]
        long vocab = logits.shape[^1];
        var predicting = logits[.., ..^1, ..].reshape(-1, vocab);                 // positions 0..T-2 predict 1..T-1
        var targets = batch.Labels[.., 1..].reshape(-1);
        return CrossEntropy(predicting, targets);
    }
}
