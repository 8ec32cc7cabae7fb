using PeftSharp.Bench.Harness;
using PeftSharp.Bench.Workloads;
using PeftSharp.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Adapters;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.IA3;
using PeftSharp.Tuners.Lora;
using PeftSharp.Tuners.Selection;
using static TorchSharp.torch;

namespace PeftSharp.Bench.Suites;

/// <summary>
/// Inference overhead of fine-tuning methods: forward latency of the BERT-base shape (fp32, sequence classification,
/// 128 tokens, batch 1 and batch 32; --shape picks another) with each method attached, as a ratio to the bare base model
/// measured just before and after it (base, method 1, base, method 2, base, ...). Every method gets its own copy of the
/// base weights (same seed), built with task SEQ_CLS so PEFT's modules_to_save copy of the classifier is part of the
/// cost, as in real use. Bottleneck adapters sit next to merged LoRA: they add layers to every block, merged LoRA adds
/// nothing.
/// </summary>
public sealed class AdaptersSuite : IBenchmarkSuite
{
    public string Name => "adapters";
    public string Description => "forward latency of BERT-base with LoRA (unmerged/merged), bottleneck adapters (Houlsby, Pfeiffer), IA3, LN tuning as a ratio to the base model";

    /// <summary>A method to compare: a name and how to put it on a fresh base model. Adding a method is one line.</summary>
    public sealed record Variant(string Name, Func<TransformerModel, nn.Module<ModelInputs, ModelOutputs>> Attach);

    static LoraConfig LoraQv() => new() { R = 8, LoraAlpha = 16, Targets = new TargetPatterns { Names = new[] { "query", "value" } }, TaskType = "SEQ_CLS" };

    /// <summary>An unadapted second copy of the base, measured like a method: its spread is the noise floor of the run.</summary>
    public static readonly Variant NoiseControl = new("base copy (noise control)", m => m);

    public static readonly Variant LoraUnmerged = new("LoRA r8 q,v unmerged", m => PeftModel.Create(m, LoraQv()));

    public static readonly Variant LoraMerged = new("LoRA r8 q,v merged", m => Merged(PeftModel.Create(m, LoraQv())));

    public static readonly IReadOnlyList<Variant> Variants = new Variant[]
    {
        NoiseControl,
        LoraUnmerged,
        LoraMerged,
        // AdapterHub's DoubleSeqBnConfig / SeqBnConfig: bottleneck hidden / 16 = 48 units on BERT-base.
        new("Bottleneck Houlsby (attention + FFN, reduction 16)", m => PeftModel.Create(m, BottleneckConfig.Houlsby() with { TaskType = "SEQ_CLS" })),
        new("Bottleneck Pfeiffer (FFN, reduction 16)", m => PeftModel.Create(m, BottleneckConfig.Pfeiffer() with { TaskType = "SEQ_CLS" })),
        new("IA3 (key, value, output.dense)", m => PeftModel.Create(m, new IA3Config { TaskType = "SEQ_CLS" })),
        new("LN tuning (all LayerNorms)", m => PeftModel.Create(m, new LnTuningConfig { TaskType = "SEQ_CLS" })),
    };

    /// <summary>Batch sizes of the latency comparison: one sequence (latency-bound serving) and 32 (throughput).</summary>
    public static readonly IReadOnlyList<int> Batches = new[] { 1, 32 };

    /// <summary>Tokens per sequence.</summary>
    public const int Length = 128;

    static PeftModel Merged(PeftModel model)
    {
        model.Merge();
        return model;
    }

    public IReadOnlyList<ResultRow> Run(BenchContext context) => CompareLatency(context, Name, Variants, Batches);

    /// <summary>
    /// Forward latency of each variant at each batch size (128 tokens, fp32, eval mode, no_grad) as a ratio to the base
    /// model measured just before and after it. Variants and batch sizes that --filter leaves out are skipped (a
    /// filter naming "base" keeps every variant of that batch size).
    /// </summary>
    /// <param name="suite">The suite the rows belong to (the lora suite reuses this for its LoRA rows).</param>
    public static List<ResultRow> CompareLatency(BenchContext context, string suite, IReadOnlyList<Variant> variants, IReadOnlyList<int> batches)
    {
        var rows = new List<ResultRow>();
        var shape = context.Shape;
        var config = shape.Config();
        string Label(string variant, int batch) => $"{shape.Name} fp32 {batch}x{Length} {variant}";
        bool Included(string variant, int batch) => context.Includes(Label(variant, batch)) || context.Includes(Label("base", batch));
        var selected = batches.Where(b => variants.Any(v => Included(v.Name, b))).ToList();
        if (selected.Count == 0) return rows;

        var needed = variants.Where(v => selected.Any(b => Included(v.Name, b))).ToList();
        context.Log($"{suite}: building the base and {needed.Count} variants ({shape.Name}, fp32)");
        using var baseModel = AutoModel.Create(config, shape.Task, ScalarType.Float32, seed: 1234);
        baseModel.eval();
        var built = needed.Select(v => (v.Name, Model: v.Attach(AutoModel.Create(config, shape.Task, ScalarType.Float32, seed: 1234)))).ToList();
        try
        {
            foreach (var (_, model) in built) model.eval();
            foreach (int batch in selected)
            {
                var inputs = ModelRunner.Inputs(batch, Length, config.VocabSize);
                var included = built.Where(v => Included(v.Name, batch)).ToList();
                // Short runs (batch 1) repeat for at least --min-seconds per measurement; long ones run once.
                double Measure(nn.Module<ModelInputs, ModelOutputs> model) =>
                    Timing.SecondsPerRep(() => ModelRunner.ForwardSeconds(model, inputs), context.Options.MinSeconds);
                if (batch == selected[0])
                {
                    // Warm-up once, at the smallest batch: the same kernels and code paths at a fraction of the cost.
                    context.Log($"{suite}: batch {batch}x{Length}: warm-up");
                    Measure(baseModel);
                    foreach (var (_, model) in included) Measure(model);
                }

                var baseSamples = new List<double>();
                var results = Interleave.Run(context, context.Options.Trials, () =>
                {
                    double seconds = Measure(baseModel);
                    baseSamples.Add(seconds);
                    return seconds;
                }, included.Select(v => new Probe(Label(v.Name, batch), () => Measure(v.Model))).ToList(), context.Options.BudgetSeconds);

                rows.Add(new ResultRow
                {
                    Suite = suite, Workload = Label("base model", batch), Metric = "latency", Unit = "ms",
                    Value = Summary.Of(baseSamples.Select(s => s * 1000)), Note = "the reference of every ratio at this batch size",
                });
                foreach (var (name, _) in included)
                {
                    var samples = results[Label(name, batch)];
                    rows.Add(new ResultRow
                    {
                        Suite = suite, Workload = Label(name, batch), Metric = "latency", Unit = "ms",
                        Value = Summary.Of(samples.Select(s => s.Value * 1000)),
                        Ratio = Summary.Of(samples.Select(s => s.Value / ((s.Before + s.After) / 2))),
                        RatioTo = "base model, measured just before and after",
                    });
                }
                DisposeInputs(inputs);
            }
        }
        finally
        {
            foreach (var (_, model) in built) model.Dispose();
        }
        return rows;
    }

    static void DisposeInputs(ModelInputs inputs)
    {
        inputs.InputIds?.Dispose();
        inputs.AttentionMask?.Dispose();
    }
}
