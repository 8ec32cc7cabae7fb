namespace PeftSharp.Generation;

/// <summary>How <see cref="TextGenerator"/> picks tokens and when it stops.</summary>
public sealed record GenerationOptions
{
    /// <summary>Tokens to generate at most per row (default 32).</summary>
    public int MaxNewTokens { get; init; } = 32;

    /// <summary>0 (default) picks the most likely token (greedy); above 0 samples from softmax(logits / T).</summary>
    public double Temperature { get; init; }

    /// <summary>When sampling, keep only the K most likely tokens (null or 0: all).</summary>
    public int? TopK { get; init; }

    /// <summary>When sampling, keep the smallest set of tokens whose probability reaches P (null or 1: all).</summary>
    public double? TopP { get; init; }

    /// <summary>Seed of the sampling generator, for repeatable samples.</summary>
    public long? Seed { get; init; }

    /// <summary>Token ids that end a row (typically the EOS ids); the stop token is kept in the output.</summary>
    public IReadOnlyList<long> StopTokenIds { get; init; } = Array.Empty<long>();

    /// <summary>Id written after a row has stopped (its padding); null uses the first stop id, else 0.</summary>
    public long? PadTokenId { get; init; }

    /// <summary>Reuse keys and values of earlier positions (default). Off recomputes the whole sequence each step.</summary>
    public bool UseCache { get; init; } = true;

    /// <summary>Checks the values and throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (MaxNewTokens < 0) throw new ArgumentException($"max new tokens must be 0 or more, got {MaxNewTokens}", nameof(MaxNewTokens));
        if (Temperature < 0 || double.IsNaN(Temperature)) throw new ArgumentException($"temperature must be 0 or more, got {Temperature}", nameof(Temperature));
        if (TopK is < 0) throw new ArgumentException($"top-k must be 0 or more, got {TopK}", nameof(TopK));
        if (TopP is { } p && (p <= 0 || p > 1 || double.IsNaN(p))) throw new ArgumentException($"top-p must be in (0, 1], got {p}", nameof(TopP));
    }
}

/// <summary>Progress of a generation: tokens produced so far (over all rows) and time taken.</summary>
public sealed record GenerationProgress(int Step, int MaxSteps, long TokensGenerated, TimeSpan Elapsed)
{
    /// <summary>The token each row received at this step (rows that had already stopped get the padding id), for streaming.</summary>
    public IReadOnlyList<long> StepTokens { get; init; } = Array.Empty<long>();

    public double TokensPerSecond => Elapsed.TotalSeconds > 0 ? TokensGenerated / Elapsed.TotalSeconds : 0;
}

/// <summary>Generated tokens of each row (stop token included, padding excluded) and timing.</summary>
public sealed record GenerationResult(IReadOnlyList<IReadOnlyList<long>> NewTokens, TimeSpan Elapsed, TimeSpan PromptTime)
{
    public long TokensGenerated => NewTokens.Sum(r => (long)r.Count);
}
