using System.Diagnostics;
using PeftSharp.Models;
using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Generation;

/// <summary>
/// Batched autoregressive generation for any causal language model whose forward takes <see cref="ModelInputs"/>
/// (a bare model or one carrying fine-tuning methods). Prompts are left-padded; each row stops at its first stop
/// token. With the cache, each step feeds only the new token; positions the model itself put into the cache ahead
/// of the prompt (prefix-tuning prefixes, prompt-tuning virtual tokens) are detected from the cache length and kept
/// visible to every row.
/// </summary>
public static class TextGenerator
{
    /// <summary>Generates for a model built by <see cref="AutoModel"/>.</summary>
    public static GenerationResult Generate(TransformerModel model, Tensor inputIds, Tensor? attentionMask, GenerationOptions options,
        IProgress<GenerationProgress>? progress = null, CancellationToken cancellation = default) =>
        Generate(model, model.LayerCount, inputIds, attentionMask, options, progress, cancellation);

    /// <summary>
    /// inputIds [B, T] (left-padded), attentionMask [B, T] (1 = real) -> the new tokens of each row.
    /// <paramref name="layerCount"/> sizes the KV cache.
    /// </summary>
    public static GenerationResult Generate(nn.Module<ModelInputs, ModelOutputs> model, int layerCount, Tensor inputIds, Tensor? attentionMask,
        GenerationOptions options, IProgress<GenerationProgress>? progress = null, CancellationToken cancellation = default)
    {
        options.Validate();
        if (inputIds.dim() != 2 || inputIds.shape[1] == 0) throw new ArgumentException("prompts must be [batch, length] with at least one token (e.g. BOS)", nameof(inputIds));
        long batch = inputIds.shape[0];
        using var outer = NewDisposeScope();
        using var _ = no_grad();
        var realMask = (attentionMask ?? ones_like(inputIds)).to(ScalarType.Int64);
        if (!realMask.shape.SequenceEqual(inputIds.shape)) throw new ArgumentException("attention mask must have the prompts' shape", nameof(attentionMask));
        if (realMask[.., -1].eq(0).any().item<bool>())
            throw new ArgumentException("every prompt must end with a real token: pad prompts on the left for generation", nameof(attentionMask));

        var sampler = new LogitsSampler(options);
        long pad = options.PadTokenId ?? (options.StopTokenIds.Count > 0 ? options.StopTokenIds[0] : 0);
        var stops = tensor(options.StopTokenIds.ToArray(), ScalarType.Int64);
        var newTokens = Enumerable.Range(0, (int)batch).Select(_ => new List<long>()).ToList();
        var finished = zeros(batch, ScalarType.Bool);
        var sequence = inputIds;
        using var cache = options.UseCache ? new KvCache(layerCount) : null;
        long fed = 0;
        var clock = Stopwatch.StartNew();
        TimeSpan promptTime = TimeSpan.Zero;

        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            Tensor logits;
            if (cache is null)
            {
                logits = model.call(new ModelInputs { InputIds = sequence, AttentionMask = realMask }).Logits!;
            }
            else
            {
                var stepIds = step == 0 ? sequence : sequence.narrow(1, sequence.shape[1] - 1, 1);
                long virtualPositions = cache.Length - fed;
                var mask = virtualPositions > 0 ? cat(new[] { ones(batch, virtualPositions, ScalarType.Int64), realMask }, 1) : realMask;
                logits = model.call(new ModelInputs { InputIds = stepIds, AttentionMask = mask, Cache = cache }).Logits!;
                fed += stepIds.shape[1];
            }
            var next = sampler.Next(logits.select(1, -1));                                 // [B]
            next = where(finished, full_like(next, pad), next);
            var nextValues = next.data<long>().ToArray();
            var wasFinished = finished.data<bool>().ToArray();
            for (int row = 0; row < batch; row++)
                if (!wasFinished[row]) newTokens[row].Add(nextValues[row]);
            var nowFinished = finished.logical_or(isin(next, stops));
            var nextSequence = cat(new[] { sequence, next.unsqueeze(1) }, 1);
            var nextMask = cat(new[] { realMask, ones(batch, 1, ScalarType.Int64) }, 1);
            (sequence, realMask, finished) = (nextSequence.MoveToOuterDisposeScope(), nextMask.MoveToOuterDisposeScope(), nowFinished.MoveToOuterDisposeScope());
            if (step == 0) promptTime = clock.Elapsed;
            progress?.Report(new GenerationProgress(step + 1, options.MaxNewTokens, newTokens.Sum(r => (long)r.Count), clock.Elapsed) { StepTokens = nextValues });
            if (finished.all().item<bool>()) break;
        }
        return new GenerationResult(newTokens, clock.Elapsed, promptTime);
    }
}
