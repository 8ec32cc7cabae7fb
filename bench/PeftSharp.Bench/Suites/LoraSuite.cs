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
/// What LoRA costs and saves on the BERT-base shape (fp32, sequence classification, 128 tokens; --shape picks another):
/// <list type="bullet">
/// <item>unmerged and merged LoRA r8 on query/value: forward latency over the base model at batch 1 and 32 (the
/// adapters suite's comparison, with its noise control);</item>
/// <item>a mixed batch: 32 sequences routed to 16 distinct adapters (two rows each, <see cref="PeftModel.RouteRows"/>),
/// throughput over the same model serving all 32 rows with one adapter (goal: at least 0.85);</item>
/// <item>training: an optimizer step of the library's <see cref="Trainer"/> (forward, backward, clipping, AdamW) on
/// 8 x 128 tokens with LoRA, over the same step with every weight trained (goal: at most 0.70).</item>
/// </list>
/// </summary>
public sealed class LoraSuite : IBenchmarkSuite
{
    public string Name => "lora";
    public string Description => "LoRA on BERT-base: unmerged/merged latency over base, 16-adapter mixed batch over one adapter, LoRA train step over full fine-tuning";

    /// <summary>Distinct adapters in the mixed batch and the batch they share (each adapter gets two rows).</summary>
    public const int MixedAdapters = 16, MixedBatchSize = 32;

    /// <summary>Sequences per training step (8 x 128 tokens: a BERT-base full fine-tuning step takes seconds here, not minutes).</summary>
    public const int TrainBatch = 8;

    /// <summary>The issues' targets: mixed-batch throughput over one adapter's, and LoRA step time over full fine-tuning's.</summary>
    public static readonly Goal MixedBatchGoal = Goal.AtLeast(0.85), TrainStepGoal = Goal.AtMost(0.70);

    static LoraConfig LoraQv(string init = "true") => new()
    {
        R = 8, LoraAlpha = 16, Targets = new TargetPatterns { Names = new[] { "query", "value" } }, TaskType = "SEQ_CLS", InitLoraWeights = init,
    };

    public IReadOnlyList<ResultRow> Run(BenchContext context)
    {
        var rows = AdaptersSuite.CompareLatency(context, Name,
            new[] { AdaptersSuite.NoiseControl, AdaptersSuite.LoraUnmerged, AdaptersSuite.LoraMerged }, AdaptersSuite.Batches);
        if (context.Includes(MixedName(context))) rows.AddRange(MixedBatchThroughput(context));
        if (context.Includes(TrainName(context, "LoRA r8 q,v")) || context.Includes(TrainName(context, "full fine-tuning"))) rows.AddRange(TrainStep(context));
        return rows;
    }

    string MixedName(BenchContext context) => $"{context.Shape.Name} fp32 {MixedBatchSize}x{AdaptersSuite.Length} mixed batch of {MixedAdapters} LoRA adapters";

    static string TrainName(BenchContext context, string method) => $"{context.Shape.Name} fp32 {TrainBatch}x{AdaptersSuite.Length} train step {method}";

    static string AdapterName(int i) => $"adapter{i:00}";

    List<ResultRow> MixedBatchThroughput(BenchContext context)
    {
        var shape = context.Shape;
        var config = shape.Config();
        // Every adapter random in both A and B (init "false"), so each row's output really depends on its adapter.
        context.Log($"lora: building {MixedAdapters} LoRA adapters on one {shape.Name}");
        using var peft = PeftModel.Create(AutoModel.Create(config, shape.Task, ScalarType.Float32, seed: 1234), LoraQv("false"), AdapterName(0));
        for (int i = 1; i < MixedAdapters; i++) peft.AddAdapter(AdapterName(i), LoraQv("false"));
        peft.SetAdapter(AdapterName(0));
        peft.eval();
        var rowAdapters = Enumerable.Range(0, MixedBatchSize).Select(row => AdapterName(row % MixedAdapters)).ToArray();

        CheckRouting(context, peft, config.VocabSize);

        var inputs = ModelRunner.Inputs(MixedBatchSize, AdaptersSuite.Length, config.VocabSize);
        double Single() => ModelRunner.ForwardSeconds(peft, inputs);
        double Mixed()
        {
            using var route = peft.RouteRows(rowAdapters);
            return ModelRunner.ForwardSeconds(peft, inputs);
        }
        var singleSamples = new List<double>();
        string name = MixedName(context);
        var results = Interleave.Run(context, context.Options.Trials, () =>
        {
            double seconds = Single();
            singleSamples.Add(seconds);
            return seconds;
        }, new[] { new Probe(name, Mixed) }, context.Options.BudgetSeconds);
        inputs.InputIds?.Dispose();
        inputs.AttentionMask?.Dispose();

        double tokens = MixedBatchSize * AdaptersSuite.Length;
        var samples = results[name];
        return new List<ResultRow>
        {
            new()
            {
                Suite = Name, Workload = $"{shape.Name} fp32 {MixedBatchSize}x{AdaptersSuite.Length} one LoRA adapter for every row", Metric = "throughput",
                Unit = "tokens/s", Value = Summary.Of(singleSamples.Select(s => tokens / s)), Note = "the reference of the mixed batch: the same model, unmerged, no routing",
            },
            new()
            {
                Suite = Name, Workload = name, Metric = "throughput", Unit = "tokens/s",
                Value = Summary.Of(samples.Select(s => tokens / s.Value)),
                // Throughput ratio = reference time / mixed time.
                Ratio = Summary.Of(samples.Select(s => (s.Before + s.After) / 2 / s.Value)),
                RatioTo = "one adapter for every row, measured just before and after",
                Goal = MixedBatchGoal,
                Note = $"rows routed round-robin to {MixedAdapters} adapters ({MixedBatchSize / MixedAdapters} rows each) with PeftModel.RouteRows; LoRA r8 on query/value, a classifier copy each",
            },
        };
    }

    /// <summary>
    /// Before timing the routed forward, checks that it routes: on a short batch with one row per adapter, every row of
    /// the mixed output equals that adapter's own output for the row. A routing that silently used one adapter would be
    /// as fast as the reference and wrong.
    /// </summary>
    static void CheckRouting(BenchContext context, PeftModel peft, long vocab)
    {
        context.Log($"lora: checking mixed-batch routing on {MixedAdapters}x8 tokens (also the warm-up)");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var inputs = ModelRunner.Inputs(MixedAdapters, 8, vocab);
        var rowAdapters = Enumerable.Range(0, MixedAdapters).Select(AdapterName).ToArray();
        Tensor mixed;
        using (peft.RouteRows(rowAdapters)) mixed = peft.call(inputs).Logits!;          // [16, labels]
        for (int row = 0; row < MixedAdapters; row++)
        {
            peft.SetAdapter(AdapterName(row));
            var alone = peft.call(inputs).Logits![row];                                     // [labels]
            if (!allclose(mixed[row], alone, rtol: 1e-4, atol: 1e-5))
                throw new InvalidOperationException($"mixed-batch row {row} differs from adapter {AdapterName(row)} alone: routing is broken");
        }
        if (allclose(mixed[0], mixed[1], rtol: 1e-4, atol: 1e-5))
            throw new InvalidOperationException("rows of different adapters gave the same output: the adapters are not distinct");
        peft.SetAdapter(AdapterName(0));
    }

    List<ResultRow> TrainStep(BenchContext context)
    {
        var shape = context.Shape;
        var config = shape.Config();
        context.Log($"lora: building {shape.Name} for full fine-tuning and for LoRA (fp32)");
        using var full = AutoModel.Create(config, shape.Task, ScalarType.Float32, seed: 1234);
        foreach (var parameter in full.parameters()) parameter.requires_grad = true;
        using var lora = PeftModel.Create(AutoModel.Create(config, shape.Task, ScalarType.Float32, seed: 1234), LoraQv());
        long fullTrained = full.parameters().Sum(p => p.numel()), loraTrained = lora.TrainableParameters().Trainable;
        var data = new SyntheticClassificationBatches(TrainBatch, AdaptersSuite.Length, config.VocabSize, labels: 2);
        var loss = new ClassificationLoss();

        // Each measurement: a fresh trainer, one warm-up step (AdamW allocates its moments: 0.9 GB for full BERT-base),
        // then one timed step.
        double Step(nn.Module<ModelInputs, ModelOutputs> model) =>
            TrainerSteps.SecondsPerStep(model, data, loss, TrainingPrecision.Float32, checkpointing: false, warmupSteps: 1, measuredSteps: 1);
        context.Log("lora: warm-up: one training step each");
        TrainerSteps.Run(full, data, loss, TrainingPrecision.Float32, checkpointing: false, steps: 1);
        TrainerSteps.Run(lora, data, loss, TrainingPrecision.Float32, checkpointing: false, steps: 1);

        var fullSamples = new List<double>();
        string loraName = TrainName(context, "LoRA r8 q,v");
        var results = Interleave.Run(context, context.Options.Trials, () =>
        {
            double seconds = Step(full);
            fullSamples.Add(seconds);
            return seconds;
        }, new[] { new Probe(loraName, () => Step(lora)) }, context.Options.BudgetSeconds);

        var samples = results[loraName];
        return new List<ResultRow>
        {
            new()
            {
                Suite = Name, Workload = TrainName(context, "full fine-tuning"), Metric = "time per step", Unit = "s",
                Value = Summary.Of(fullSamples),
                Note = $"Trainer step (forward, backward, clipping, AdamW) training all {fullTrained / 1e6:0.0} M parameters; the reference of the LoRA step",
            },
            new()
            {
                Suite = Name, Workload = loraName, Metric = "time per step", Unit = "s",
                Value = Summary.Of(samples.Select(s => s.Value)),
                Ratio = Summary.Of(samples.Select(s => s.Value / ((s.Before + s.After) / 2))),
                RatioTo = "full fine-tuning step, measured just before and after",
                Goal = TrainStepGoal,
                Note = $"{loraTrained / 1e6:0.000} M trained parameters (LoRA A/B and the classifier copy); base frozen, so backward computes no weight gradients",
            },
        };
    }
}
