using static TorchSharp.torch;

namespace PeftSharp.Generation;

/// <summary>Chooses the next token of each row from its logits: greedy, or temperature / top-k / top-p sampling.</summary>
public sealed class LogitsSampler
{
    readonly GenerationOptions _options;
    readonly Generator? _generator;

    public LogitsSampler(GenerationOptions options)
    {
        _options = options;
        _generator = options.Seed is long seed ? new Generator((ulong)seed) : null;
    }

    /// <summary>logits [B, V] -> next token ids [B] (int64).</summary>
    public Tensor Next(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var scores = logits.to(ScalarType.Float32);
        if (_options.Temperature == 0) return scores.argmax(-1).MoveToOuterDisposeScope();
        scores = scores / _options.Temperature;
        if (_options.TopK is int k && k > 0 && k < scores.shape[^1])
        {
            var kth = scores.topk(k, -1).values.narrow(-1, k - 1, 1);                    // [B, 1]
            scores = scores.masked_fill(scores < kth, double.NegativeInfinity);
        }
        if (_options.TopP is double p && p < 1)
        {
            // As Hugging Face's TopPLogitsWarper: drop the least likely tokens whose total probability is at most 1 - p.
            var (sorted, order) = scores.sort(-1, descending: false);
            var cumulative = sorted.softmax(-1).cumsum(-1);
            var remove = cumulative <= (1 - p);
            remove[.., -1] = tensor(false);                                                 // always keep the most likely
            var removeInOriginalOrder = remove.scatter(-1, order, remove);
            scores = scores.masked_fill(removeInOriginalOrder, double.NegativeInfinity);
        }
        var probabilities = scores.softmax(-1);
        return multinomial(probabilities, 1, generator: _generator).squeeze(-1).MoveToOuterDisposeScope();
    }
}
