using PeftSharp.Bench.Harness;
using PeftSharp.Bench.Workloads;
using PeftSharp.Models;
using static TorchSharp.torch;

namespace PeftSharp.Bench.Suites;

/// <summary>
/// Forward throughput of the BERT-base shape (8 x 128 tokens, sequence classification) and the Llama-1B shape
/// (1 x 128 prefill; greedy decoding of 32 tokens with the KV cache through TextGenerator), each in fp32 and bf16,
/// under no_grad in eval mode. Achieved GFLOP/s (2 x linear weights x tokens + 4 x layers x T^2 x hidden per sequence)
/// is reported as a fraction of the fp32 and the bf16 matmul peak, measured just before and after each run.
/// </summary>
public sealed class ForwardSuite : IBenchmarkSuite
{
    public string Name => "forward";
    public string Description => "forward tokens/s and GFLOP/s as a fraction of the matmul peaks: BERT-base 8x128, Llama-1B 1x128 prefill and 32-token decode";

    static readonly ScalarType[] DTypes = { ScalarType.Float32, ScalarType.BFloat16 };
    const int BertBatch = 8, BertLength = 128, LlamaLength = 128, DecodePrompt = 16, DecodeTokens = 32;

    /// <summary>A workload and how to turn its seconds into tokens and FLOPs.</summary>
    sealed record Case(string Name, ScalarType DType, Func<double> Seconds, double Tokens, double Flops, double WeightBytes, string Note);

    public IReadOnlyList<ResultRow> Run(BenchContext context)
    {
        var rows = new List<ResultRow>();
        if (DTypes.Any(d => context.Includes(BertName(d)))) rows.AddRange(RunBert(context));
        if (DTypes.Any(d => context.Includes(PrefillName(d)) || context.Includes(DecodeName(d)))) rows.AddRange(RunLlama(context));
        return rows;
    }

    static string BertName(ScalarType d) => $"bert-base {MatmulKernel.DTypeName(d)} seq-cls {BertBatch}x{BertLength}";
    static string PrefillName(ScalarType d) => $"llama-1b {MatmulKernel.DTypeName(d)} prefill 1x{LlamaLength}";
    static string DecodeName(ScalarType d) => $"llama-1b {MatmulKernel.DTypeName(d)} decode {DecodeTokens} tokens";

    IEnumerable<ResultRow> RunBert(BenchContext context)
    {
        var shape = ModelShape.BertBase;
        var config = shape.Config();
        var inputs = ModelRunner.Inputs(BertBatch, BertLength, config.VocabSize);
        var cases = new List<Case>();
        var models = new List<TransformerModel>();
        foreach (var dtype in DTypes.Where(d => context.Includes(BertName(d))))
        {
            var model = ModelRunner.Load(context, shape, dtype);
            models.Add(model);
            long linear = Flops.LinearParameters(model);
            cases.Add(new Case(BertName(dtype), dtype, () => ModelRunner.ForwardSeconds(model, inputs), BertBatch * BertLength,
                Flops.Forward(linear, config.NumLayers, config.HiddenSize, BertBatch, BertLength), 0,
                $"{linear / 1e6:0.0} M linear weights; warm-up: one full forward"));
            context.Log($"forward: warm-up {cases[^1].Name}: {cases[^1].Seconds():0.00} s");
        }
        var rows = Measure(context, cases);
        foreach (var model in models) model.Dispose();
        return rows;
    }

    IEnumerable<ResultRow> RunLlama(BenchContext context)
    {
        var shape = ModelShape.Llama1B;
        var config = shape.Config();
        var prefill = ModelRunner.Inputs(1, LlamaLength, config.VocabSize);
        var warmInputs = ModelRunner.Inputs(1, DecodePrompt, config.VocabSize);
        var prompt = ModelRunner.TokenIds(1, DecodePrompt, config.VocabSize, seed: 5);
        var prefillCases = new List<Case>();
        var decodeCases = new List<Case>();
        var models = new List<TransformerModel>();
        foreach (var dtype in DTypes.Where(d => context.Includes(PrefillName(d)) || context.Includes(DecodeName(d))))
        {
            var model = ModelRunner.Load(context, shape, dtype);
            models.Add(model);
            long linear = Flops.LinearParameters(model);
            double elementSize = dtype == ScalarType.BFloat16 ? 2 : 4;
            // Warm-up on a short input: the same kernels at a fraction of the cost of a full prefill.
            context.Log($"forward: warm-up llama-1b {MatmulKernel.DTypeName(dtype)} (1x{DecodePrompt} forward, 2-token decode): " +
                $"{ModelRunner.ForwardSeconds(model, warmInputs) + Timing.Seconds(() => ModelRunner.Decode(model, prompt, 2)):0.00} s");
            if (context.Includes(PrefillName(dtype)))
                prefillCases.Add(new Case(PrefillName(dtype), dtype, () => ModelRunner.ForwardSeconds(model, prefill), LlamaLength,
                    Flops.Forward(linear, config.NumLayers, config.HiddenSize, 1, LlamaLength), 0,
                    $"{linear / 1e9:0.000} B linear weights (lm_head included; logits for all 128 positions)"));
            if (context.Includes(DecodeName(dtype)))
            {
                // The k-th new token (k = 1..31 after the first) attends over prompt + k positions; mean context = prompt + 16.
                double meanContext = DecodePrompt + DecodeTokens / 2.0;
                decodeCases.Add(new Case(DecodeName(dtype), dtype, () => ModelRunner.Decode(model, prompt, DecodeTokens).SecondsPerToken, 1,
                    Flops.DecodeStep(linear, config.NumLayers, config.HiddenSize, 1, (long)meanContext), linear * elementSize,
                    $"TextGenerator greedy, KV cache, {DecodePrompt}-token prompt; time per token after the first (prompt step excluded)"));
            }
        }
        var rows = Measure(context, prefillCases).Concat(Measure(context, decodeCases)).ToList();
        foreach (var model in models) model.Dispose();
        return rows;
    }

    /// <summary>Interleaves the cases with the peak probe and turns the seconds into rows.</summary>
    List<ResultRow> Measure(BenchContext context, List<Case> cases)
    {
        var rows = new List<ResultRow>();
        if (cases.Count == 0) return rows;
        var peak = context.Peak;
        var results = Interleave.Run(context, context.Options.Trials, peak.Measure,
            cases.Select(c => new Probe(c.Name, c.Seconds)).ToList(), context.Options.BudgetSeconds);
        foreach (var c in cases)
        {
            var samples = results[c.Name];
            bool decode = c.WeightBytes > 0;
            rows.Add(Row(c.Name, decode ? "time per token" : "time per forward", "s", Summary.Of(samples.Select(s => s.Value)), null, null, c.Note));
            rows.Add(Row(c.Name, "throughput", "tokens/s", Summary.Of(samples.Select(s => c.Tokens / s.Value)), null, null, null));
            foreach (var reference in DTypes)
                rows.Add(Row(c.Name, $"achieved vs {MatmulKernel.DTypeName(reference)} peak", "GFLOP/s",
                    Summary.Of(samples.Select(s => c.Flops / s.Value / 1e9)),
                    Summary.Of(samples.Select(s => c.Flops / s.Value / 1e9 / ((s.Before.Of(reference) + s.After.Of(reference)) / 2))),
                    peak.Describe(reference), null));
            if (decode)
                rows.Add(Row(c.Name, "weights streamed", "GB/s", Summary.Of(samples.Select(s => c.WeightBytes / s.Value / 1e9)), null, null,
                    "linear weight bytes read per token / time per token: decoding one token is memory-bound"));
        }
        return rows;
    }

    ResultRow Row(string workload, string metric, string unit, Summary value, Summary? ratio, string? ratioTo, string? note) => new()
    {
        Suite = Name, Workload = workload, Metric = metric, Unit = unit, Value = value, Ratio = ratio, RatioTo = ratioTo, Note = note,
    };
}
