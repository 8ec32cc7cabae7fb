using PeftSharp.Bench.Harness;
using PeftSharp.Bench.Workloads;
using static TorchSharp.torch;

namespace PeftSharp.Bench.Suites;

/// <summary>
/// Matmul throughput (GFLOP/s) in fp32 and bf16 through torch.matmul with every core: square 1024 and 2048, the
/// shapes BERT-base and Llama-1B run, and both operand layouts (nn.Linear's x.W^T and a plain A.B). Each kernel is
/// bracketed by the reference kernel (<see cref="PeakProbe"/>, the denominator of every other suite's ratios), so
/// its ratio says how it compares with that reference at the same moment.
/// </summary>
public sealed class PeakSuite : IBenchmarkSuite
{
    public string Name => "peak";
    public string Description => "fp32/bf16 matmul GFLOP/s (square 1024/2048 and model shapes); the denominator of every ratio";

    /// <summary>(m, k, n, layout, label): squares, then the model shapes in nn.Linear's layout.</summary>
    static readonly (long M, long K, long N, MatmulLayout Layout, string Label)[] Shapes =
    {
        (1024, 1024, 1024, MatmulLayout.Linear, "square 1024"),
        (2048, 2048, 2048, MatmulLayout.Linear, "square 2048"),
        (1024, 1024, 1024, MatmulLayout.Plain, "square 1024"),
        (1024, 768, 768, MatmulLayout.Linear, "bert-base q/k/v/o, 8x128 tokens"),
        (1024, 768, 3072, MatmulLayout.Linear, "bert-base FFN up, 8x128 tokens"),
        (1024, 3072, 768, MatmulLayout.Linear, "bert-base FFN down, 8x128 tokens"),
        (128, 2048, 2048, MatmulLayout.Linear, "llama-1b q/o, 128 tokens"),
        (128, 2048, 512, MatmulLayout.Linear, "llama-1b k/v, 128 tokens"),
        (128, 2048, 8192, MatmulLayout.Linear, "llama-1b gate/up, 128 tokens"),
        (128, 8192, 2048, MatmulLayout.Linear, "llama-1b down, 128 tokens"),
        (128, 2048, 32000, MatmulLayout.Linear, "llama-1b lm_head, 128 tokens"),
        (1, 2048, 8192, MatmulLayout.Linear, "llama-1b gate/up, decode 1 token"),
        (1, 8192, 2048, MatmulLayout.Linear, "llama-1b down, decode 1 token"),
        (1, 2048, 32000, MatmulLayout.Linear, "llama-1b lm_head, decode 1 token"),
    };

    public IReadOnlyList<ResultRow> Run(BenchContext context)
    {
        var rows = new List<ResultRow>();
        var peak = context.Peak;
        var probeSamples = new List<PeakSample>();
        PeakSample Reference()
        {
            var sample = peak.Measure();
            probeSamples.Add(sample);
            return sample;
        }

        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            var kernels = Shapes.Select(s => (Kernel: new MatmulKernel(dtype, s.M, s.K, s.N, s.Layout), s.Label))
                .Where(k => context.Includes($"{k.Kernel.Name} {k.Label}")).ToList();
            if (kernels.Count == 0) continue;
            context.Log($"peak: {kernels.Count} {MatmulKernel.DTypeName(dtype)} kernels (warm-up, then {context.Options.Trials} interleaved trials)");
            foreach (var (kernel, _) in kernels) kernel.Run();
            // Kernels slower than the minimum time per measurement still run twice; slow bf16 kernels run once per trial.
            var probes = kernels.Select(k => new Probe($"{k.Kernel.Name} ({k.Label})",
                () => k.Kernel.Flops / Timing.SecondsPerRep(k.Kernel.Run, context.Options.MinSeconds, minReps: 1) / 1e9)).ToList();
            var results = Interleave.Run(context, context.Options.Trials, Reference, probes, context.Options.BudgetSeconds);
            foreach (var probe in probes)
            {
                var samples = results[probe.Name];
                rows.Add(new ResultRow
                {
                    Suite = Name, Workload = probe.Name, Metric = "throughput", Unit = "GFLOP/s",
                    Value = Summary.Of(samples.Select(s => s.Value)),
                    Ratio = Summary.Of(samples.Select(s => s.Value / ((s.Before.Of(dtype) + s.After.Of(dtype)) / 2))),
                    RatioTo = peak.Describe(dtype),
                });
            }
            foreach (var (kernel, _) in kernels) kernel.Dispose();
        }

        rows.Insert(0, new ResultRow
        {
            Suite = Name, Workload = peak.Kernel(ScalarType.Float32).Name + " (reference)", Metric = "peak", Unit = "GFLOP/s",
            Value = Summary.Of(probeSamples.Select(s => s.Fp32)),
            Note = "the reference kernel; every peak ratio in every suite divides by it, measured just before and after the workload",
        });
        rows.Insert(1, new ResultRow
        {
            Suite = Name, Workload = peak.Kernel(ScalarType.BFloat16).Name + " (reference)", Metric = "peak", Unit = "GFLOP/s",
            Value = Summary.Of(probeSamples.Select(s => s.Bf16)),
            Ratio = Summary.Of(probeSamples.Select(s => s.Bf16 / s.Fp32)),
            RatioTo = "fp32 reference measured just before it",
            Note = context.Machine.CpuFlags.GetValueOrDefault("avx512_bf16") || context.Machine.CpuFlags.GetValueOrDefault("amx_bf16")
                ? "bf16 / fp32 at the same moment"
                : "bf16 / fp32 at the same moment; this CPU has neither avx512_bf16 nor amx_bf16 (nor avx512bw), so libtorch has no fast bf16 GEMM",
        });
        return rows;
    }
}
