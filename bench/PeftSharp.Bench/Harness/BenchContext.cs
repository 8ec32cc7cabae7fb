using System.Diagnostics;
using PeftSharp.Bench.Workloads;

namespace PeftSharp.Bench.Harness;

/// <summary>What a suite gets: options, machine facts, progress logging, the shared peak probe and the checkpoint cache.</summary>
public sealed class BenchContext : IDisposable
{
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly TextWriter _log;
    PeakProbe? _peak;

    /// <param name="options">The parsed command line.</param>
    /// <param name="machine">Facts printed with every result.</param>
    /// <param name="log">Where progress goes (stderr: the tables or the JSON on stdout are the results).</param>
    public BenchContext(BenchOptions options, MachineInfo machine, TextWriter log)
    {
        Options = options;
        Machine = machine;
        _log = log;
        Cache = new CheckpointCache(options.CacheDirectory, this);
        Shape = ModelShape.Find(options.Shape) ?? throw new ArgumentException($"unknown model shape '{options.Shape}'");
    }

    public BenchOptions Options { get; }
    public MachineInfo Machine { get; }
    public CheckpointCache Cache { get; }

    /// <summary>The model of the adapters, lora and train suites (--shape; BERT-base unless told otherwise).</summary>
    public ModelShape Shape { get; }

    /// <summary>The reference matmuls (fp32 and bf16) every peak ratio divides by; built and warmed on first use.</summary>
    public PeakProbe Peak => _peak ??= new PeakProbe(Options.PeakSize, Options.PeakSizeBf16 ?? DefaultBf16PeakSize(), Options.MinSeconds);

    /// <summary>
    /// Without a native bf16 GEMM (avx512_bf16 / amx_bf16) a bf16 2048^3 matmul takes seconds and runs no faster than
    /// 1024^3, so the bf16 reference is 1024^3 there; with one, it matches the fp32 reference.
    /// </summary>
    int DefaultBf16PeakSize() =>
        Machine.CpuFlags.GetValueOrDefault("avx512_bf16") || Machine.CpuFlags.GetValueOrDefault("amx_bf16") ? Options.PeakSize : Math.Min(Options.PeakSize, 1024);

    /// <summary>Whether a workload passes --filter.</summary>
    public bool Includes(string workload) =>
        Options.Filter is null || Options.Filter.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Any(f => workload.Contains(f, StringComparison.OrdinalIgnoreCase));

    /// <summary>Progress on stderr (the table and JSON are the results).</summary>
    public void Log(string message)
    {
        _log.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {message}");
        _log.Flush();
    }

    public void Dispose() => _peak?.Dispose();
}
