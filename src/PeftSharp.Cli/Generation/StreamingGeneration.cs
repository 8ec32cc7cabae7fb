using System.Diagnostics;
using PeftSharp.Generation;
using PeftSharp.Models;
using PeftSharp.Tokenization;
using static TorchSharp.torch;

namespace PeftSharp.Cli.Generation;

/// <summary>How a generation ended.</summary>
enum StopReason
{
    /// <summary>A stop token (EOS) was generated.</summary>
    StopToken,

    /// <summary>One of the --stop texts appeared.</summary>
    StopText,

    /// <summary>--max-new-tokens were generated.</summary>
    MaxNewTokens,
}

/// <summary>A finished generation: the text, the tokens and the timing.</summary>
sealed record GenerationOutcome(string Completion, int PromptTokens, IReadOnlyList<long> Tokens, StopReason StopReason, TimeSpan Elapsed, TimeSpan TimeToFirstToken)
{
    public double TokensPerSecond => Elapsed.TotalSeconds > 0 ? Tokens.Count / Elapsed.TotalSeconds : 0;

    public string StopReasonName => StopReason switch
    {
        StopReason.StopToken => "stop_token",
        StopReason.StopText => "stop_text",
        _ => "max_new_tokens",
    };
}

/// <summary>
/// One prompt through <see cref="TextGenerator"/>, decoded while it runs. Stop tokens end the generation inside the
/// generator; a stop text can only be seen in decoded text, so the stream cancels the generator when one appears.
/// </summary>
static class StreamingGeneration
{
    /// <param name="model">The model (or the PEFT model carrying an adapter).</param>
    /// <param name="layerCount">Transformer blocks, for the KV cache.</param>
    /// <param name="tokenizer">Decodes the tokens.</param>
    /// <param name="promptIds">Encoded prompt (at least one token).</param>
    /// <param name="options">Sampling options and stop token ids.</param>
    /// <param name="stopTexts">Texts that end the completion (excluded from it).</param>
    /// <param name="onText">Receives each piece of final text and the progress so far.</param>
    public static GenerationOutcome Run(nn.Module<ModelInputs, ModelOutputs> model, int layerCount, PretrainedTokenizer tokenizer,
        IReadOnlyList<int> promptIds, GenerationOptions options, IReadOnlyList<string> stopTexts, Action<string, GenerationProgress> onText)
    {
        var stream = new CompletionStream(tokenizer, promptIds, stopTexts);
        using var stopped = new CancellationTokenSource();
        TimeSpan firstToken = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        var progress = new Callback(step =>
        {
            if (step.Step == 1) firstToken = clock.Elapsed;
            onText(stream.Add(step.StepTokens[0]), step);
            if (stream.StopTextAt is not null) stopped.Cancel();
        });
        using var input = tensor(promptIds.Select(id => (long)id).ToArray(), ScalarType.Int64).unsqueeze(0);
        try
        {
            TextGenerator.Generate(model, layerCount, input, null, options, progress, stopped.Token);
        }
        catch (OperationCanceledException) when (stopped.IsCancellationRequested)
        {
            // Cancelled by the stream: a stop text appeared.
        }
        var elapsed = clock.Elapsed;
        string rest = stream.Flush();
        if (rest.Length > 0) onText(rest, new GenerationProgress(stream.Tokens.Count, options.MaxNewTokens, stream.Tokens.Count, elapsed));

        var reason = stream.StopTextAt is not null ? StopReason.StopText
            : stream.Tokens.Count > 0 && options.StopTokenIds.Contains(stream.Tokens[^1]) ? StopReason.StopToken
            : StopReason.MaxNewTokens;
        return new GenerationOutcome(stream.Completion, promptIds.Count, stream.Tokens, reason, elapsed, firstToken);
    }

    /// <summary>Reports synchronously on the generating thread (System.Progress would post to the thread pool).</summary>
    sealed class Callback(Action<GenerationProgress> report) : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress value) => report(value);
    }
}
