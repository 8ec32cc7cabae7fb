using System.Text.Json.Serialization;

namespace PeftSharp.Training;

/// <summary>How the learning rate moves over the run (after any warm-up, which rises linearly from 0).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LearningRateSchedule>))]
public enum LearningRateSchedule
{
    /// <summary>Linear decay to 0 at the last step (Hugging Face's get_linear_schedule_with_warmup).</summary>
    Linear,

    /// <summary>Half a cosine from the peak to 0 at the last step (get_cosine_schedule_with_warmup).</summary>
    Cosine,

    /// <summary>The peak rate throughout (get_constant_schedule_with_warmup).</summary>
    Constant,
}

/// <summary>The element type training computes in.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TrainingPrecision>))]
public enum TrainingPrecision
{
    /// <summary>Every floating-point parameter is float32.</summary>
    Float32,

    /// <summary>
    /// The frozen model runs in bfloat16 (load it with dtype BFloat16); trainable parameters, gradients as the optimizer
    /// sees them, optimizer state and the loss are float32. Trainable bfloat16 parameters get float32 master copies.
    /// </summary>
    BFloat16,
}

/// <summary>
/// Settings of a <see cref="Trainer"/> run. <see cref="Validate"/> (called by the trainer) throws
/// <see cref="ArgumentException"/> naming the option at fault.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Peak learning rate of AdamW.</summary>
    public double LearningRate { get; init; } = 2e-4;

    /// <summary>Decoupled weight decay (AdamW); biases, norm weights and adapter vectors never decay.</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>AdamW's first-moment coefficient.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>AdamW's second-moment coefficient.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>AdamW's denominator term.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Learning-rate schedule after warm-up.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Linear;

    /// <summary>Optimizer steps of linear warm-up from 0 (exclusive with <see cref="WarmupRatio"/>).</summary>
    public int WarmupSteps { get; init; }

    /// <summary>Warm-up as a fraction of all optimizer steps, rounded up (exclusive with <see cref="WarmupSteps"/>).</summary>
    public double WarmupRatio { get; init; }

    /// <summary>Passes over the training data (ignored when <see cref="MaxSteps"/> is set).</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Optimizer steps to run, cycling through epochs as needed; 0 means <see cref="Epochs"/> decide.</summary>
    public int MaxSteps { get; init; }

    /// <summary>Micro-batches whose gradients add up to one optimizer step (each loss is scaled by 1/steps).</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>Gradients are scaled down when their global L2 norm exceeds this; 0 turns clipping off (the norm is still reported).</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>A non-finite loss or gradient skips the step; this many in a row stop the run with <see cref="TrainingDivergedException"/>.</summary>
    public int MaxConsecutiveNonFiniteSteps { get; init; } = 5;

    /// <summary>Element type of the computation; see <see cref="TrainingPrecision"/>.</summary>
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Float32;

    /// <summary>
    /// Turns on activation checkpointing in every <see cref="Models.TransformerModel"/> of the model (false leaves the
    /// models' own <see cref="Models.TransformerModel.GradientCheckpointing"/> as it is).
    /// </summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>Seeds the CPU generator (dropout) at the start and the order of batches (passed to <see cref="IBatchSource.Epoch"/>).</summary>
    public long Seed { get; init; } = 42;

    /// <summary>Evaluate every this many optimizer steps (and at the end); 0 evaluates only at the end.</summary>
    public int EvalSteps { get; init; }

    /// <summary>Stop after this many evaluations in a row without improvement of the primary metric; 0 never stops early.</summary>
    public int EarlyStoppingPatience { get; init; }

    /// <summary>The least change of the primary metric that counts as an improvement.</summary>
    public double EarlyStoppingThreshold { get; init; }

    /// <summary>At the end, put the trainable parameters of the best evaluation back into the model.</summary>
    public bool LoadBestAtEnd { get; init; }

    /// <summary>Directory for checkpoints and metrics.jsonl; null writes nothing.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>Write a checkpoint every this many optimizer steps (and at the end); 0 writes one only at the end.</summary>
    public int SaveSteps { get; init; }

    /// <summary>Checkpoints kept (the oldest are deleted); 0 keeps all.</summary>
    public int SaveTotalLimit { get; init; } = 2;

    /// <summary>Write a metrics line (and report progress) every this many optimizer steps.</summary>
    public int LoggingSteps { get; init; } = 1;

    /// <summary>Options that may differ between a checkpoint and the run resuming it (they do not change the trajectory).</summary>
    internal static readonly IReadOnlySet<string> FreeOnResume = new HashSet<string>(StringComparer.Ordinal)
    {
        nameof(MaxConsecutiveNonFiniteSteps), nameof(GradientCheckpointing), nameof(EvalSteps), nameof(EarlyStoppingPatience),
        nameof(EarlyStoppingThreshold), nameof(LoadBestAtEnd), nameof(OutputDirectory), nameof(SaveSteps), nameof(SaveTotalLimit),
        nameof(LoggingSteps),
    };

    /// <summary>Checks every option; throws <see cref="ArgumentException"/> whose ParamName is the option.</summary>
    public void Validate()
    {
        Require(double.IsFinite(LearningRate) && LearningRate > 0, nameof(LearningRate), "must be a positive number");
        Require(double.IsFinite(WeightDecay) && WeightDecay >= 0, nameof(WeightDecay), "must be 0 or more");
        Require(Beta1 is >= 0 and < 1, nameof(Beta1), "must be in [0, 1)");
        Require(Beta2 is >= 0 and < 1, nameof(Beta2), "must be in [0, 1)");
        Require(double.IsFinite(Epsilon) && Epsilon > 0, nameof(Epsilon), "must be a positive number");
        Require(Enum.IsDefined(Schedule), nameof(Schedule), "is not a known schedule");
        Require(WarmupSteps >= 0, nameof(WarmupSteps), "must be 0 or more");
        Require(WarmupRatio is >= 0 and <= 1, nameof(WarmupRatio), "must be in [0, 1]");
        Require(WarmupSteps == 0 || WarmupRatio == 0, nameof(WarmupRatio), "give WarmupSteps or WarmupRatio, not both");
        Require(Epochs >= 1, nameof(Epochs), "must be at least 1");
        Require(MaxSteps >= 0, nameof(MaxSteps), "must be 0 (use Epochs) or more");
        Require(GradientAccumulationSteps >= 1, nameof(GradientAccumulationSteps), "must be at least 1");
        Require(double.IsFinite(MaxGradNorm) && MaxGradNorm >= 0, nameof(MaxGradNorm), "must be 0 (no clipping) or more");
        Require(MaxConsecutiveNonFiniteSteps >= 1, nameof(MaxConsecutiveNonFiniteSteps), "must be at least 1");
        Require(Enum.IsDefined(Precision), nameof(Precision), "is not a known precision");
        Require(EvalSteps >= 0, nameof(EvalSteps), "must be 0 (only at the end) or more");
        Require(EarlyStoppingPatience >= 0, nameof(EarlyStoppingPatience), "must be 0 (off) or more");
        Require(double.IsFinite(EarlyStoppingThreshold) && EarlyStoppingThreshold >= 0, nameof(EarlyStoppingThreshold), "must be 0 or more");
        Require(SaveSteps >= 0, nameof(SaveSteps), "must be 0 (only at the end) or more");
        Require(SaveSteps == 0 || OutputDirectory is not null, nameof(SaveSteps), "checkpoints need an OutputDirectory");
        Require(SaveTotalLimit >= 0, nameof(SaveTotalLimit), "must be 0 (keep all) or more");
        Require(LoggingSteps >= 1, nameof(LoggingSteps), "must be at least 1");
        Require(OutputDirectory is null || OutputDirectory.Trim().Length > 0, nameof(OutputDirectory), "must be null or a path");
    }

    static void Require(bool condition, string option, string message)
    {
        if (!condition) throw new ArgumentException($"training option {option} {message}", option);
    }
}
