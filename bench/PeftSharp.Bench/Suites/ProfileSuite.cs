using PeftSharp.Bench.Harness;
using PeftSharp.Bench.Workloads;
using PeftSharp.Models;
using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Bench.Suites;

/// <summary>
/// Where a Llama-1B prefill (1 x 128 tokens) spends its time, fp32 against bf16: exclusive time of every module group
/// (q/k/v/o, gate/up/down, norms, embedding, head; summed over the 16 blocks) as a share of the forward, and the
/// attention-core operations the model runs between them (scaled-dot-product attention, grouped-query repeat, rotary,
/// SiLU gate) timed in isolation at the same shapes, times 16 blocks. Interleaved with the matmul peak probe, so the
/// linear layers' GFLOP/s can be set against it.
/// </summary>
public sealed class ProfileSuite : IBenchmarkSuite
{
    public string Name => "profile";
    public string Description => "per-module and per-op time of the Llama-1B 1x128 prefill, fp32 vs bf16 (where the bf16 time goes)";

    static readonly ScalarType[] DTypes = { ScalarType.Float32, ScalarType.BFloat16 };
    const int Length = 128;

    public IReadOnlyList<ResultRow> Run(BenchContext context)
    {
        var rows = new List<ResultRow>();
        var shape = ModelShape.Llama1B;
        var config = (Models.Llama.LlamaConfig)shape.Config();
        var inputs = ModelRunner.Inputs(1, Length, config.VocabSize);
        var warm = ModelRunner.Inputs(1, 16, config.VocabSize);
        var probes = new List<Probe>();
        var models = new List<TransformerModel>();
        var timers = new Dictionary<ScalarType, ModuleTimer>();
        var snapshots = new Dictionary<ScalarType, List<(double Total, IReadOnlyDictionary<string, double> Groups)>>();
        var ops = new Dictionary<ScalarType, List<string>>();
        var decodeSnapshots = new Dictionary<ScalarType, List<(double Total, IReadOnlyDictionary<string, double> Groups)>>();

        foreach (var dtype in DTypes.Where(d => context.Includes(Label(d)) || context.Includes(DecodeLabel(d))))
        {
            var model = ModelRunner.Load(context, shape, dtype);
            models.Add(model);
            var timer = new ModuleTimer();
            int wrapped = timer.Instrument(model);
            timers[dtype] = timer;
            context.Log($"profile: llama-1b {MatmulKernel.DTypeName(dtype)}: {wrapped} modules timed; warm-up {ModelRunner.ForwardSeconds(model, warm):0.00} s (1x16)");
            if (context.Includes(Label(dtype)))
            {
                snapshots[dtype] = new();
                probes.Add(new Probe(Label(dtype), () =>
                {
                    timer.Reset();
                    double seconds = ModelRunner.ForwardSeconds(model, inputs);
                    snapshots[dtype].Add((seconds, timer.Seconds));
                    return seconds;
                }));
                var opProbes = AttentionOps(config, dtype, context.Options.MinSeconds);
                ops[dtype] = opProbes.Select(p => p.Name).ToList();
                probes.AddRange(opProbes);
            }
            if (context.Includes(DecodeLabel(dtype)))
            {
                var prompt = ModelRunner.TokenIds(1, 16, config.VocabSize, seed: 5);
                decodeSnapshots[dtype] = new();
                probes.Add(new Probe(DecodeLabel(dtype), () =>
                {
                    var (seconds, groups) = DecodeSteps(model, timer, prompt, DecodeSteps_);
                    decodeSnapshots[dtype].Add((seconds, groups));
                    return seconds;
                }));
            }
        }
        if (probes.Count == 0) return rows;

        var peak = context.Peak;
        var results = Interleave.Run(context, context.Options.Trials, peak.Measure, probes, context.Options.BudgetSeconds);

        foreach (var (dtype, samples) in decodeSnapshots)
            rows.AddRange(GroupRows(DecodeLabel(dtype), samples, $"{DecodeSteps_} single-token steps after a 16-token prompt (KV cache), summed"));
        foreach (var (dtype, samples) in snapshots)
        {
            var timer = timers[dtype];
            string label = Label(dtype);
            var totals = samples.Select(s => s.Total).ToList();
            rows.AddRange(GroupRows(label, samples, "module times are exclusive (a wrapper's own time, nested timed modules subtracted)"));

            // The linear layers together, against the peak probe measured around the forward.
            var linearGroups = timer.LinearWeights.Keys.ToList();
            double linearFlops = 2.0 * timer.LinearWeights.Values.Sum() * Length;
            var forwardRuns = results[label];
            var linearSeconds = samples.Select(s => linearGroups.Sum(g => s.Groups.GetValueOrDefault(g))).ToList();
            if (forwardRuns.Count != samples.Count) continue;
            rows.Add(Row($"{label}: all linear layers", "achieved", "GFLOP/s", Summary.Of(linearSeconds.Select(s => linearFlops / s / 1e9)),
                Summary.Of(linearSeconds.Select((s, i) => linearFlops / s / 1e9 / ((forwardRuns[i].Before.Of(dtype) + forwardRuns[i].After.Of(dtype)) / 2))),
                peak.Describe(dtype), $"{linearGroups.Count} groups, 2 x {timer.LinearWeights.Values.Sum() / 1e9:0.000} B weights x {Length} tokens"));

            // Isolated attention-core ops, as a share of the forward of the same trial.
            foreach (string op in ops[dtype])
            {
                var opRuns = results[op];
                rows.Add(Row(op, "time", "ms", Summary.Of(opRuns.Select(r => r.Value * 1000)),
                    Summary.Of(opRuns.Select((r, i) => r.Value / totals[Math.Min(i, totals.Count - 1)])), "share of the whole forward (same trial)",
                    "run in isolation at the model's shapes, 16 times (once per block)"));
            }
        }
        foreach (var model in models) model.Dispose();
        return rows;
    }

    static string Label(ScalarType dtype) => $"llama-1b {MatmulKernel.DTypeName(dtype)} prefill 1x{Length}";
    static string DecodeLabel(ScalarType dtype) => $"llama-1b {MatmulKernel.DTypeName(dtype)} decode";
    const int DecodeSteps_ = 8;

    /// <summary>Rows of a profiled run: the total, each module group and the untimed rest, as shares of the total.</summary>
    List<ResultRow> GroupRows(string label, List<(double Total, IReadOnlyDictionary<string, double> Groups)> samples, string note)
    {
        var rows = new List<ResultRow>
        {
            Row($"{label}: whole forward", "time", "ms", Summary.Of(samples.Select(s => s.Total * 1000)), null, null, note),
        };
        var groups = samples.SelectMany(s => s.Groups.Keys).Distinct().OrderByDescending(g => samples.Average(s => s.Groups.GetValueOrDefault(g))).ToList();
        foreach (string group in groups)
            rows.Add(Row($"{label}: {group}", "time", "ms", Summary.Of(samples.Select(s => s.Groups.GetValueOrDefault(group) * 1000)),
                Summary.Of(samples.Select(s => s.Groups.GetValueOrDefault(group) / s.Total)), "share of the whole forward", null));
        rows.Add(Row($"{label}: everything else", "time", "ms", Summary.Of(samples.Select(s => (s.Total - s.Groups.Values.Sum()) * 1000)),
            Summary.Of(samples.Select(s => (s.Total - s.Groups.Values.Sum()) / s.Total)), "share of the whole forward",
            "untimed code between the modules: attention core (SDPA, GQA repeat, rotary, KV cache), SiLU gate, residual adds, masks"));
        return rows;
    }

    /// <summary>
    /// Runs a prompt into a fresh KV cache (untimed), then <paramref name="steps"/> single-token forwards with the module
    /// timer on: (seconds of the steps, seconds per module group).
    /// </summary>
    static (double Seconds, IReadOnlyDictionary<string, double> Groups) DecodeSteps(TransformerModel model, ModuleTimer timer, Tensor prompt, int steps)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var cache = new KvCache(model.LayerCount);
        var next = model.call(new ModelInputs { InputIds = prompt, Cache = cache }).Logits!.select(1, -1).argmax(-1).unsqueeze(1);
        long length = prompt.shape[1];
        timer.Reset();
        double seconds = 0;
        for (int step = 0; step < steps; step++)
        {
            length++;
            var ids = next;
            seconds += Timing.Seconds(() =>
            {
                using var stepScope = NewDisposeScope();
                var logits = model.call(new ModelInputs { InputIds = ids, AttentionMask = ones(1, length, ScalarType.Int64), Cache = cache }).Logits!;
                next = logits.select(1, -1).argmax(-1).unsqueeze(1).MoveToOuterDisposeScope();
            });
        }
        return (seconds, timer.Seconds);
    }

    /// <summary>The attention-core and gate operations of the 16 blocks, at the model's shapes.</summary>
    static List<Probe> AttentionOps(Models.Llama.LlamaConfig config, ScalarType dtype, double minSeconds)
    {
        int layers = config.NumLayers, heads = config.NumHeads, kvHeads = config.NumKeyValueHeads, headDim = config.HeadDim;
        var q = randn(1, heads, Length, headDim).to(dtype);
        var kv = randn(1, kvHeads, Length, headDim).to(dtype);
        var k = kv.repeat_interleave(heads / kvHeads, 1);
        var v = kv.repeat_interleave(heads / kvHeads, 1).contiguous();
        var mask = AttentionMasks.Additive(ones(1, Length, ScalarType.Int64), Length, causal: true, dtype);
        var (cos, sin) = new RotaryEmbedding(headDim, config.RopeTheta).Tables(arange(Length).unsqueeze(0), dtype);
        var gate = randn(1, Length, config.IntermediateSize).to(dtype);
        var up = randn(1, Length, config.IntermediateSize).to(dtype);
        var silu = Activations.Get(config.HiddenAct);
        var probs = (q.matmul(k.transpose(-2, -1)) / Math.Sqrt(headDim) + mask).softmax(-1);
        string prefix = $"{Label(dtype)}: isolated x{layers}";

        Probe Op(string name, Func<Tensor> op) => new($"{prefix} {name}", () => Timing.SecondsPerRep(() =>
        {
            for (int i = 0; i < layers; i++)
            {
                using var scope = NewDisposeScope();
                _ = op();
            }
        }, minSeconds));

        return new List<Probe>
        {
            Op("SDPA with additive mask (as the model calls it)", () => nn.functional.scaled_dot_product_attention(q, k, v, mask)),
            Op("SDPA is_causal, no mask", () => nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true)),
            Op("q.k^T matmul", () => q.matmul(k.transpose(-2, -1))),
            Op("probs.v matmul", () => probs.matmul(v)),
            Op("GQA repeat_interleave of k and v", () => cat(new[] { kv.repeat_interleave(heads / kvHeads, 1), kv.repeat_interleave(heads / kvHeads, 1) })),
            Op("rotary on q and k", () => cat(new[] { RotaryEmbedding.Apply(q, cos, sin).flatten(), RotaryEmbedding.Apply(kv, cos, sin).flatten() })),
            Op("SiLU(gate) * up", () => silu(gate) * up),
        };
    }

    ResultRow Row(string workload, string metric, string unit, Summary value, Summary? ratio, string? ratioTo, string? note) => new()
    {
        Suite = Name, Workload = workload, Metric = metric, Unit = unit, Value = value, Ratio = ratio, RatioTo = ratioTo, Note = note,
    };
}
