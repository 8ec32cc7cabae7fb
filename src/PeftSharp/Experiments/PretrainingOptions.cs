using System.Text.Json.Serialization;
using PeftSharp.Training;

namespace PeftSharp.Experiments;

/// <summary>What <see cref="Pretraining"/> trains.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PretrainingKind>))]
public enum PretrainingKind
{
    /// <summary>A BERT encoder (BertForMaskedLM) trained by masked language modelling, with an uncased WordPiece tokenizer.</summary>
    Encoder,

    /// <summary>A GPT-2 decoder (GPT2LMHeadModel) trained by next-token prediction, with a byte-level BPE tokenizer.</summary>
    Decoder,
}

/// <summary>
/// Settings of a pretraining run (<c>peft pretrain</c>). Everything that shapes the weights is here, so that the same
/// options (and the same thread count) give the same files. <see cref="Validate"/> throws <see cref="ArgumentException"/>
/// naming the option.
/// </summary>
public sealed record PretrainingOptions
{
    /// <summary>The four real-text corpora of the dataset catalog.</summary>
    public static readonly IReadOnlyList<string> DefaultCorpora = ["brown-text", "sotu-text", "spam-text", "nlp-corpus-text"];

    /// <summary>Encoder (masked LM) or decoder (causal LM).</summary>
    public PretrainingKind Kind { get; init; } = PretrainingKind.Encoder;

    /// <summary>Language-modelling datasets (catalog names or text/JSONL files) whose training splits are the pretraining text.</summary>
    public IReadOnlyList<string> Corpora { get; init; } = DefaultCorpora;

    /// <summary>Tokenizer vocabulary size (special tokens included); the trained one may be smaller if merges run out.</summary>
    public int VocabSize { get; init; } = 8192;

    /// <summary>Hidden size.</summary>
    public int Hidden { get; init; } = 128;

    /// <summary>Transformer blocks.</summary>
    public int Layers { get; init; } = 4;

    /// <summary>Attention heads (must divide <see cref="Hidden"/>).</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Feed-forward width; null is 4 × <see cref="Hidden"/>.</summary>
    public int? Intermediate { get; init; }

    /// <summary>Optimizer steps.</summary>
    public int Steps { get; init; } = 1200;

    /// <summary>Tokens per training sequence (special tokens included); also the model's position limit.</summary>
    public int SequenceLength { get; init; } = 128;

    /// <summary>Sequences per optimizer step.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Seeds the weights, the batch order, the masks and dropout.</summary>
    public long Seed { get; init; } = 42;

    /// <summary>Peak AdamW learning rate (linear warm-up, then linear decay to 0).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Share of the steps spent warming up.</summary>
    public double WarmupRatio { get; init; } = 0.05;

    /// <summary>
    /// Float32 (every computation in float32; the default: a whole bf16 BERT step measured 20 times slower than float32
    /// through TorchSharp 0.107 here) or BFloat16 (the model computes in bf16 from float32 master weights).
    /// </summary>
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Float32;

    /// <summary>libtorch intra-op threads for the run; part of what makes it repeatable (reductions split by thread count).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Held-out sequences (shared by the corpora) for the validation loss.</summary>
    public int HeldOutSequences { get; init; } = 256;

    /// <summary>Evaluate the held-out loss every this many steps (and at the end); 0 only at the end.</summary>
    public int EvalSteps { get; init; } = 200;

    /// <summary>Write a resumable checkpoint every this many steps (and when interrupted).</summary>
    public int SaveSteps { get; init; } = 100;

    /// <summary>A metrics line and a progress report every this many steps.</summary>
    public int LoggingSteps { get; init; } = 10;

    /// <summary>Feed-forward width in effect.</summary>
    public int IntermediateSize => Intermediate ?? 4 * Hidden;

    /// <summary>Checks every option; throws <see cref="ArgumentException"/> whose ParamName is the option.</summary>
    public void Validate()
    {
        Require(Enum.IsDefined(Kind), nameof(Kind), "must be encoder or decoder");
        Require(Corpora.Count > 0 && Corpora.All(c => !string.IsNullOrWhiteSpace(c)), nameof(Corpora), "must name at least one corpus");
        Require(VocabSize >= 512, nameof(VocabSize), "must be at least 512 (a byte-level alphabet alone takes 258)");
        Require(Hidden > 0 && Layers > 0 && Heads > 0, nameof(Hidden), "hidden size, layers and heads must be positive");
        Require(Hidden % Heads == 0, nameof(Heads), $"must divide the hidden size {Hidden}");
        Require(IntermediateSize > 0, nameof(Intermediate), "must be positive");
        Require(Steps > 0, nameof(Steps), "must be positive");
        Require(SequenceLength >= 8, nameof(SequenceLength), "must be at least 8");
        Require(BatchSize > 0, nameof(BatchSize), "must be positive");
        Require(double.IsFinite(LearningRate) && LearningRate > 0, nameof(LearningRate), "must be a positive number");
        Require(WarmupRatio is >= 0 and < 1, nameof(WarmupRatio), "must be in [0, 1)");
        Require(Enum.IsDefined(Precision), nameof(Precision), "is not a known precision");
        Require(Threads > 0, nameof(Threads), "must be positive");
        Require(HeldOutSequences > 0, nameof(HeldOutSequences), "must be positive");
        Require(EvalSteps >= 0 && SaveSteps >= 0 && LoggingSteps > 0, nameof(EvalSteps), "step intervals must not be negative");
    }

    static void Require(bool condition, string option, string message)
    {
        if (!condition) throw new ArgumentException($"pretraining option {option} {message}", option);
    }
}
