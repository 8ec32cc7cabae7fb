using PeftSharp.Bench.Harness;
using PeftSharp.Bench.Workloads;
using PeftSharp.Models;
using PeftSharp.Training;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.Lora;
using static TorchSharp.torch;

namespace PeftSharp.Bench.Suites;

/// <summary>
/// LoRA training on the BERT-base shape (sequence classification, 128 tokens per sequence; --shape picks another),
/// driven through the library's <see cref="Trainer"/>:
/// <list type="bullet">
/// <item>throughput in fp32 and in bf16 (frozen base in bf16, adapters fp32: <see cref="TrainingPrecision.BFloat16"/>)
/// as model FLOPs, 4 x linear weights x tokens per second (<see cref="Flops.FrozenBaseTrainStep"/>), over the same
/// dtype's matmul peak measured just before and after (goal: at least 0.50), at 2 x 128 tokens per step;</item>
/// <item>activation checkpointing (<see cref="TransformerModel.GradientCheckpointing"/>, i.e.
/// <c>AttentionContext.CheckpointBlocks</c>): step time over the same step without it, and the memory a step holds
/// between forward and backward and the peak rise of the resident set during a step, over the same without it, at
/// 8 x 128 tokens per step in fp32.</item>
/// </list>
/// </summary>
public sealed class TrainSuite : IBenchmarkSuite
{
    public string Name => "train";
    public string Description => "LoRA training of BERT-base: fp32/bf16 model FLOPs over the matmul peaks; activation checkpointing's step time and memory";

    /// <summary>Tokens per sequence (the BERT-base figure: sequence length 128).</summary>
    public const int Length = 128;

    /// <summary>
    /// Sequences per step of the throughput figures. Small because bf16 is slow here: on a CPU without avx512_bf16 a
    /// BERT-base bf16 LoRA step on 8 x 128 tokens takes minutes (its backward pass multiplies in the layout whose bf16
    /// kernel is ten times slower still; see the peak suite's A.B rows). fp32 runs the same batch for comparison.
    /// </summary>
    public const int ThroughputBatch = 2;

    /// <summary>Sequences per step of the checkpointing figures (fp32): enough activations for the memory to tell.</summary>
    public const int CheckpointingBatch = 8;

    /// <summary>The target: LoRA training at half the matmul peak or more.</summary>
    public static readonly Goal ThroughputGoal = Goal.AtLeast(0.50);

    static readonly ScalarType[] DTypes = { ScalarType.Float32, ScalarType.BFloat16 };

    static LoraConfig LoraQv() => new() { R = 8, LoraAlpha = 16, Targets = new TargetPatterns { Names = new[] { "query", "value" } }, TaskType = "SEQ_CLS" };

    static string ThroughputName(BenchContext context, ScalarType dtype) =>
        $"{context.Shape.Name} {MatmulKernel.DTypeName(dtype)} {ThroughputBatch}x{Length} LoRA training throughput";

    static string CheckpointedName(BenchContext context) => $"{context.Shape.Name} fp32 {CheckpointingBatch}x{Length} LoRA step with activation checkpointing";

    static string PlainName(BenchContext context) => $"{context.Shape.Name} fp32 {CheckpointingBatch}x{Length} LoRA step without checkpointing";

    /// <summary>What a step held between its forward and backward pass, and its peak rise of the resident set, in bytes.</summary>
    sealed record StepMemory(double Held, double PeakRise);

    public IReadOnlyList<ResultRow> Run(BenchContext context)
    {
        var rows = new List<ResultRow>();
        var shape = context.Shape;
        var config = shape.Config();
        var throughputData = new SyntheticClassificationBatches(ThroughputBatch, Length, config.VocabSize, labels: 2);
        var checkpointingData = new SyntheticClassificationBatches(CheckpointingBatch, Length, config.VocabSize, labels: 2);
        // bf16 warms up on one 16-token sequence (same kernels; a BERT-base bf16 step takes a minute here), fp32 on its real batch.
        var bf16WarmupData = new SyntheticClassificationBatches(1, 16, config.VocabSize, labels: 2);
        var loss = new ClassificationLoss();
        bool checkpointing = context.Includes(CheckpointedName(context)) || context.Includes(PlainName(context));
        var dtypes = DTypes.Where(d => context.Includes(ThroughputName(context, d)) || (d == ScalarType.Float32 && checkpointing)).ToList();
        if (dtypes.Count == 0) return rows;

        // One LoRA model per dtype, on the same random base weights; the fp32 one also serves the checkpointing figures.
        var models = new Dictionary<ScalarType, PeftModel>();
        try
        {
            long linearWeights = 0;
            foreach (var dtype in dtypes)
            {
                context.Log($"train: building {shape.Name} ({MatmulKernel.DTypeName(dtype)} base, fp32 LoRA r8 on query/value) and a warm-up step");
                var model = AutoModel.Create(config, shape.Task, dtype, seed: 1234);
                linearWeights = Flops.LinearParameters(model);
                models[dtype] = PeftModel.Create(model, LoraQv());
                TrainerSteps.Run(models[dtype], dtype == ScalarType.BFloat16 ? bf16WarmupData : throughputData, loss, Precision(dtype), checkpointing: false, steps: 1);
            }
            rows.AddRange(Throughput(context, models, throughputData, loss, linearWeights));
            if (checkpointing)
            {
                var fp32 = models[ScalarType.Float32];
                context.Log("train: warm-up: one step with and one without checkpointing");
                TrainerSteps.Run(fp32, checkpointingData, loss, TrainingPrecision.Float32, checkpointing: false, steps: 1);
                TrainerSteps.Run(fp32, checkpointingData, loss, TrainingPrecision.Float32, checkpointing: true, steps: 1);
                rows.AddRange(CheckpointingTime(context, fp32, checkpointingData, loss));
                rows.AddRange(CheckpointingMemory(context, fp32, checkpointingData, loss));
            }
        }
        finally
        {
            foreach (var model in models.Values) model.Dispose();
        }
        return rows;
    }

    static TrainingPrecision Precision(ScalarType dtype) => dtype == ScalarType.BFloat16 ? TrainingPrecision.BFloat16 : TrainingPrecision.Float32;

    /// <summary>
    /// One timed step per measurement, each on a fresh trainer: LoRA's AdamW moments are 2 x 0.3 M floats on BERT-base,
    /// so a run's first step costs what every later step does (the models were warmed up by a step already).
    /// </summary>
    static double Step(PeftModel model, IBatchSource data, ITrainingObjective loss, ScalarType dtype, bool checkpointing) =>
        TrainerSteps.SecondsPerStep(model, data, loss, Precision(dtype), checkpointing, warmupSteps: 0, measuredSteps: 1);

    List<ResultRow> Throughput(BenchContext context, Dictionary<ScalarType, PeftModel> models, SyntheticClassificationBatches data,
        ITrainingObjective loss, long linearWeights)
    {
        var rows = new List<ResultRow>();
        var measured = models.Keys.Where(d => context.Includes(ThroughputName(context, d))).ToList();
        if (measured.Count == 0) return rows;
        var peak = context.Peak;
        double flops = Flops.FrozenBaseTrainStep(linearWeights, data.TokensPerBatch);
        var results = Interleave.Run(context, context.Options.Trials, peak.Measure,
            measured.Select(d => new Probe(ThroughputName(context, d), () => Step(models[d], data, loss, d, checkpointing: false))).ToList(),
            context.Options.BudgetSeconds);

        foreach (var dtype in measured)
        {
            string name = ThroughputName(context, dtype);
            var samples = results[name];
            rows.Add(Row(name, "time per step", "s", Summary.Of(samples.Select(s => s.Value)),
                note: $"Trainer step (forward, backward, clipping, AdamW) on {ThroughputBatch}x{Length} tokens" +
                      (dtype == ScalarType.BFloat16 ? "; Precision BFloat16: base bf16, LoRA and optimizer fp32" : "")));
            rows.Add(Row(name, "throughput", "tokens/s", Summary.Of(samples.Select(s => data.TokensPerBatch / s.Value))));
            rows.Add(Row(name, $"model FLOPs vs {MatmulKernel.DTypeName(dtype)} peak", "GFLOP/s",
                Summary.Of(samples.Select(s => flops / s.Value / 1e9)),
                Summary.Of(samples.Select(s => flops / s.Value / 1e9 / ((s.Before.Of(dtype) + s.After.Of(dtype)) / 2))),
                peak.Describe(dtype), ThroughputGoal,
                $"4 x {linearWeights:N0} linear weights x tokens per step (forward 2PT + activation gradients 2PT; frozen base, no weight gradients)"));
        }
        // One probe's "after" is the next one's "before": count each reference measurement once.
        var references = results.Values.SelectMany(r => r).SelectMany(s => new[] { s.Before, s.After })
            .Distinct(ReferenceEqualityComparer.Instance).Cast<PeakSample>().ToList();
        foreach (var dtype in measured)
            rows.Add(Row($"matmul peak {MatmulKernel.DTypeName(dtype)} (reference)", "throughput", "GFLOP/s",
                Summary.Of(references.Select(r => r.Of(dtype))), note: $"{peak.Describe(dtype)}, every measurement of this run"));
        return rows;
    }

    List<ResultRow> CheckpointingTime(BenchContext context, PeftModel model, IBatchSource data, ITrainingObjective loss)
    {
        var plainSamples = new List<double>();
        string name = CheckpointedName(context);
        var results = Interleave.Run(context, context.Options.Trials, () =>
        {
            double seconds = Step(model, data, loss, ScalarType.Float32, checkpointing: false);
            plainSamples.Add(seconds);
            return seconds;
        }, new[] { new Probe(name, () => Step(model, data, loss, ScalarType.Float32, checkpointing: true)) }, context.Options.BudgetSeconds);
        var samples = results[name];
        return new List<ResultRow>
        {
            Row(PlainName(context), "time per step", "s", Summary.Of(plainSamples), note: "the reference of the checkpointing ratios"),
            Row(name, "time per step", "s", Summary.Of(samples.Select(s => s.Value)),
                Summary.Of(samples.Select(s => s.Value / ((s.Before + s.After) / 2))), "the same step without checkpointing, measured just before and after",
                note: "every block keeps only its input in forward and is recomputed in backward (one extra forward per block)"),
        };
    }

    List<ResultRow> CheckpointingMemory(BenchContext context, PeftModel model, IBatchSource data, ClassificationLoss loss)
    {
        if (!ProcessMemory.IsSupported)
        {
            context.Log("train: resident-memory figures need Linux with glibc; skipped");
            return new List<ResultRow>();
        }
        StepMemory Measure(bool checkpointing)
        {
            ProcessMemory.Settle();
            long baseline = ProcessMemory.ResidentBytes();
            ProcessMemory.ResetPeak();
            long? afterForward = null;
            // The trainer computes the loss between forward and backward: the graph then holds every saved activation.
            loss.AfterForward = () => afterForward ??= ProcessMemory.ResidentBytes();
            try
            {
                TrainerSteps.Run(model, data, loss, TrainingPrecision.Float32, checkpointing, steps: 1);
            }
            finally
            {
                loss.AfterForward = null;
            }
            long peak = ProcessMemory.PeakResidentBytes();
            return new StepMemory(afterForward!.Value - baseline, peak - baseline);
        }

        context.Log("train: memory of one step with and without checkpointing (freed memory returned to the system meanwhile)");
        var plainSamples = new List<StepMemory>();
        var checkpointedPeaks = new List<double>();
        string name = CheckpointedName(context);
        Dictionary<string, List<Bracketed<StepMemory>>> results;
        using (ProcessMemory.ReturnFreedMemory())
        {
            results = Interleave.Run(context, context.Options.Trials, () =>
            {
                var plain = Measure(checkpointing: false);
                plainSamples.Add(plain);
                return plain;
            }, new[]
            {
                new Probe(name, () =>
                {
                    var checkpointed = Measure(checkpointing: true);
                    checkpointedPeaks.Add(checkpointed.PeakRise);
                    return checkpointed.Held;
                }),
            }, context.Options.BudgetSeconds);
        }
        var samples = results[name];
        const double MB = 1e6;
        const string how = "resident set (VmRSS) with glibc returning freed blocks of 64 KiB or more to the system";
        return new List<ResultRow>
        {
            Row(PlainName(context), "memory held between forward and backward", "MB", Summary.Of(plainSamples.Select(m => m.Held / MB)),
                note: $"{how}: rise from before the step to the loss (every saved activation alive)"),
            Row(PlainName(context), "peak memory rise during a step", "MB", Summary.Of(plainSamples.Select(m => m.PeakRise / MB)),
                note: $"{how}: peak (VmHWM, reset before the step) minus the resident set before it"),
            Row(name, "memory held between forward and backward", "MB", Summary.Of(samples.Select(s => s.Value / MB)),
                Summary.Of(samples.Select(s => s.Value / ((s.Before.Held + s.After.Held) / 2))), "the same step without checkpointing"),
            Row(name, "peak memory rise during a step", "MB", Summary.Of(checkpointedPeaks.Select(p => p / MB)),
                Summary.Of(samples.Select((s, i) => checkpointedPeaks[i] / ((s.Before.PeakRise + s.After.PeakRise) / 2))), "the same step without checkpointing"),
        };
    }

    ResultRow Row(string workload, string metric, string unit, Summary value, Summary? ratio = null, string? ratioTo = null, Goal? goal = null,
        string? note = null) => new()
    {
        Suite = Name, Workload = workload, Metric = metric, Unit = unit, Value = value, Ratio = ratio, RatioTo = ratioTo, Goal = goal, Note = note,
    };
}
