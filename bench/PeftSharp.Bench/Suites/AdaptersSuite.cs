using PeftSharp.Bench.Harness;
using PeftSharp.Bench.Workloads;
using PeftSharp.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.IA3;
using PeftSharp.Tuners.Lora;
using PeftSharp.Tuners.Selection;
using static TorchSharp.torch;

namespace PeftSharp.Bench.Suites;

/// <summary>
/// Inference overhead of fine-tuning methods: forward latency of the BERT-base shape (fp32, sequence classification,
/// 128 tokens, batch 1 and batch 32) with each method attached, as a ratio to the bare base model measured just before
/// and after it (base, method 1, base, method 2, base, ...). Every method gets its own copy of the base weights (same
/// seed), built with task SEQ_CLS so PEFT's modules_to_save copy of the classifier is part of the cost, as in real use.
/// </summary>
public sealed class AdaptersSuite : IBenchmarkSuite
{
    public string Name => "adapters";
    public string Description => "forward latency of BERT-base with LoRA (unmerged/merged), IA3, LN tuning, ... as a ratio to the base model";

    /// <summary>A method to compare: a name and how to put it on a fresh base model. Adding a method is one line.</summary>
    public sealed record Variant(string Name, Func<TransformerModel, nn.Module<ModelInputs, ModelOutputs>> Attach);

    static LoraConfig LoraQv() => new() { R = 8, LoraAlpha = 16, Targets = new TargetPatterns { Names = new[] { "query", "value" } }, TaskType = "SEQ_CLS" };

    public static readonly IReadOnlyList<Variant> Variants = new Variant[]
    {
        new("base copy (noise control)", m => m),
        new("LoRA r8 q,v unmerged", m => PeftModel.Create(m, LoraQv())),
        new("LoRA r8 q,v merged", m => Merged(PeftModel.Create(m, LoraQv()))),
        new("IA3 (key, value, output.dense)", m => PeftModel.Create(m, new IA3Config { TaskType = "SEQ_CLS" })),
        new("LN tuning (all LayerNorms)", m => PeftModel.Create(m, new LnTuningConfig { TaskType = "SEQ_CLS" })),
        // new("Bottleneck (Houlsby, reduction 16)", m => PeftModel.Create(m, new BottleneckConfig { ... })),
    };

    static readonly int[] Batches = { 1, 32 };
    const int Length = 128;

    static PeftModel Merged(PeftModel model)
    {
        model.Merge();
        return model;
    }

    public IReadOnlyList<ResultRow> Run(BenchContext context)
    {
        var rows = new List<ResultRow>();
        var shape = ModelShape.BertBase;
        var config = shape.Config();
        var batches = Batches.Where(b => Variants.Any(v => context.Includes(Label(v.Name, b))) || context.Includes(Label("base", b))).ToList();
        if (batches.Count == 0) return rows;

        context.Log($"adapters: building the base and {Variants.Count} variants ({shape.Name}, fp32)");
        var baseModel = AutoModel.Create(config, shape.Task, ScalarType.Float32, seed: 1234);
        var variants = Variants.Select(v => (v.Name, Model: v.Attach(AutoModel.Create(config, shape.Task, ScalarType.Float32, seed: 1234)))).ToList();
        foreach (var (_, model) in variants) model.eval();

        foreach (int batch in batches)
        {
            var inputs = ModelRunner.Inputs(batch, Length, config.VocabSize);
            var included = variants.Where(v => context.Includes(Label(v.Name, batch)) || context.Includes(Label("base", batch))).ToList();
            // Short runs (batch 1) repeat for at least --min-seconds per measurement; long ones run once.
            double Measure(nn.Module<ModelInputs, ModelOutputs> model) =>
                Timing.SecondsPerRep(() => ModelRunner.ForwardSeconds(model, inputs), context.Options.MinSeconds);
            if (batch == batches[0])
            {
                // Warm-up once, at the smallest batch: the same kernels and code paths at a fraction of the cost.
                context.Log($"adapters: batch {batch}x{Length}: warm-up");
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
                Suite = Name, Workload = Label("base model", batch), Metric = "latency", Unit = "ms",
                Value = Summary.Of(baseSamples.Select(s => s * 1000)), Note = "the reference of every ratio at this batch size",
            });
            foreach (var (name, _) in included)
            {
                var samples = results[Label(name, batch)];
                rows.Add(new ResultRow
                {
                    Suite = Name, Workload = Label(name, batch), Metric = "latency", Unit = "ms",
                    Value = Summary.Of(samples.Select(s => s.Value * 1000)),
                    Ratio = Summary.Of(samples.Select(s => s.Value / ((s.Before + s.After) / 2))),
                    RatioTo = "base model, measured just before and after",
                });
            }
        }
        baseModel.Dispose();
        foreach (var (_, model) in variants) model.Dispose();
        return rows;
    }

    static string Label(string variant, int batch) => $"bert-base fp32 {batch}x{Length} {variant}";
}
