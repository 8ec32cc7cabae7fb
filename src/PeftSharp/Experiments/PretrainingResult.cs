using PeftSharp.Training;

namespace PeftSharp.Experiments;

/// <summary>A step of a pretraining run, for progress displays: a stage message, or a training report.</summary>
/// <param name="Stage">"data", "tokenizer", "model", "train", "save".</param>
/// <param name="Message">What happens.</param>
/// <param name="Training">The trainer's report during the "train" stage, else null.</param>
public sealed record PretrainingProgress(string Stage, string Message, TrainingProgress? Training = null);

/// <summary>What a pretraining run did (also written to pretrain.json).</summary>
public sealed record PretrainingResult
{
    /// <summary>The model directory.</summary>
    public required string Directory { get; init; }

    /// <summary>Why training ended; <see cref="TrainingStopReason.Cancelled"/> leaves a checkpoint and no model files.</summary>
    public required TrainingStopReason StopReason { get; init; }

    /// <summary>"bert" or "gpt2".</summary>
    public required string ModelType { get; init; }

    /// <summary>Parameters of the model (tied ones once).</summary>
    public required long Parameters { get; init; }

    /// <summary>Vocabulary of the trained tokenizer.</summary>
    public required int VocabSize { get; init; }

    /// <summary>Optimizer steps done.</summary>
    public required long Steps { get; init; }

    /// <summary>Training sequences in one epoch.</summary>
    public required int TrainingSequences { get; init; }

    /// <summary>Mean training loss of the last logged interval.</summary>
    public required double FinalTrainLoss { get; init; }

    /// <summary>Held-out metrics at the end (loss, perplexity, token_accuracy), or null when interrupted before any evaluation.</summary>
    public IReadOnlyDictionary<string, double>? HeldOut { get; init; }

    /// <summary>Mean training throughput, real tokens per second.</summary>
    public required double TokensPerSecond { get; init; }

    /// <summary>Wall time of the whole run.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>Files in the model directory.</summary>
    public IReadOnlyList<string> Files { get; init; } = [];
}
