using PeftSharp.Data;
using PeftSharp.Models;
using PeftSharp.Tokenization;
using PeftSharp.Training;
using static TorchSharp.torch;

namespace PeftSharp.Tasks;

/// <summary>
/// Token classification (part-of-speech tags, named entities): each word is tokenized on its own and its tag is
/// put on its first sub-token; the other sub-tokens and the special tokens get -100, as Hugging Face's
/// <c>run_ner</c> does. Byte-level BPE words get a leading space (Hugging Face's <c>add_prefix_space</c> for
/// pre-split words). Loss: cross-entropy over the labelled sub-tokens. Sentences longer than
/// <see cref="BatchingOptions.MaxLength"/> lose their last sub-tokens.
/// </summary>
public sealed class TokenClassificationTask : TrainingTask<TokenClassificationExample>
{
    readonly SpecialTokenFrame _frame;

    /// <summary>Tags words with <paramref name="labels"/> (tag ids are their positions).</summary>
    public TokenClassificationTask(PretrainedTokenizer tokenizer, LabelSet labels, BatchingOptions? batching = null) : base(tokenizer, batching)
    {
        ArgumentNullException.ThrowIfNull(labels);
        Labels = labels;
        _frame = SpecialTokenFrame.Of(tokenizer);
    }

    /// <summary>The tags.</summary>
    public LabelSet Labels { get; }

    /// <summary>Outputs the head needs.</summary>
    public int NumLabels => Labels.Count;

    public override ModelTask Head => ModelTask.TokenClassification;

    public override IEvaluator Evaluator(IReadOnlyList<TokenClassificationExample> examples) =>
        new TokenClassificationEvaluator(Encode(examples), Batching.BatchSize, Collate, LossTerms);

    private protected override IEnumerable<EncodedExample> EncodeExample(TokenClassificationExample example)
    {
        if (example.Tokens.Count != example.Labels.Count)
            throw example.Source.Error("labels", $"{example.Labels.Count} labels for {example.Tokens.Count} tokens");
        var ids = new List<int>();
        var labels = new List<int>();
        bool prefixSpace = Tokenizer.Kind == TokenizerKind.ByteLevelBpe;
        for (int w = 0; w < example.Tokens.Count; w++)
        {
            int tag = Labels.IdOf(example.Labels[w], example.Source, $"labels[{w}]");
            var pieces = Tokenizer.Encode(prefixSpace ? " " + example.Tokens[w] : example.Tokens[w], addSpecialTokens: false).Ids;
            for (int p = 0; p < pieces.Count; p++)
            {
                ids.Add(pieces[p]);
                labels.Add(p == 0 ? tag : BatchTensors.IgnoreIndex);
            }
        }
        int budget = Batching.MaxLength - _frame.Count;
        if (ids.Count > budget)
        {
            ids.RemoveRange(budget, ids.Count - budget);
            labels.RemoveRange(budget, labels.Count - budget);
        }
        var ignored = (int[] part) => part.Select(_ => BatchTensors.IgnoreIndex);
        yield return new EncodedExample(_frame.Wrap(ids), TokenLabels: [.. ignored(_frame.Prefix), .. labels, .. ignored(_frame.Suffix)]);
    }

    private protected override TrainingBatch Collate(IReadOnlyList<EncodedExample> rows, ulong seed) =>
        new(BatchTensors.Inputs(rows, PadId), BatchTensors.TokenLabels(rows.Select(r => r.TokenLabels!).ToList()), rows.Count);

    private protected override (Tensor Sum, long Count) LossTerms(ModelOutputs outputs, TrainingBatch batch)
    {
        var logits = LogitsOf(outputs);                                           // [B, T, labels]
        return CrossEntropy(logits.reshape(-1, logits.shape[^1]), batch.Labels.reshape(-1));
    }
}
