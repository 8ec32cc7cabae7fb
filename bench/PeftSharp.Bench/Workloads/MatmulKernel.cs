using PeftSharp.Bench.Harness;
using static TorchSharp.torch;

namespace PeftSharp.Bench.Workloads;

/// <summary>How the right-hand operand of a matmul is stored.</summary>
public enum MatmulLayout
{
    /// <summary>x[m,k] · W[n,k]^T: nn.Linear's layout (weight stored [out, in]); what every model layer runs.</summary>
    Linear,

    /// <summary>A[m,k] · B[k,n], both row-major.</summary>
    Plain,
}

/// <summary>One matmul of fixed shape, dtype and layout on random operands, timed through torch.matmul.</summary>
public sealed class MatmulKernel : IDisposable
{
    readonly Tensor _a, _b;

    public MatmulKernel(ScalarType dtype, long m, long k, long n, MatmulLayout layout)
    {
        DType = dtype;
        (M, K, N, Layout) = (m, k, n, layout);
        _a = randn(new[] { m, k }).to(dtype);
        _b = (layout == MatmulLayout.Linear ? randn(new[] { n, k }) : randn(new[] { k, n })).to(dtype);
    }

    public ScalarType DType { get; }
    public long M { get; }
    public long K { get; }
    public long N { get; }
    public MatmulLayout Layout { get; }

    /// <summary>Floating-point operations of one call: 2 m k n.</summary>
    public double Flops => 2.0 * M * K * N;

    public string Name => $"{DTypeName(DType)} {M}x{K}x{N} {(Layout == MatmulLayout.Linear ? "x.W^T" : "A.B")}";

    /// <summary>One multiplication (the product is freed at once).</summary>
    public void Run()
    {
        using var scope = NewDisposeScope();
        _ = Layout == MatmulLayout.Linear ? matmul(_a, _b.t()) : matmul(_a, _b);
    }

    /// <summary>GFLOP/s over repeats lasting at least <paramref name="minSeconds"/> (at least two calls).</summary>
    public double Gflops(double minSeconds) => Flops / Timing.SecondsPerRep(Run, minSeconds, minReps: 2) / 1e9;

    public static string DTypeName(ScalarType type) => type switch
    {
        ScalarType.Float32 => "fp32",
        ScalarType.BFloat16 => "bf16",
        ScalarType.Float16 => "fp16",
        _ => type.ToString(),
    };

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }
}

/// <summary>The matmul peaks of one moment: GFLOP/s of the reference kernel in fp32 and in bf16.</summary>
public sealed record PeakSample(double Fp32, double Bf16)
{
    public double Of(ScalarType type) => type == ScalarType.BFloat16 ? Bf16 : Fp32;
    public override string ToString() => $"fp32 {Fp32:0.0} / bf16 {Bf16:0.0} GFLOP/s";
}

/// <summary>
/// The denominator of every peak ratio: a square matmul x[n,n] · W[n,n]^T (nn.Linear's layout) in fp32 and in bf16,
/// with the process's torch thread count. Warmed up when built; each <see cref="Measure"/> runs both for a short while
/// (at least two calls each).
/// </summary>
public sealed class PeakProbe : IDisposable
{
    readonly MatmulKernel _fp32, _bf16;
    readonly double _minSeconds;

    public PeakProbe(int fp32Size, int bf16Size, double minSeconds)
    {
        _fp32 = new MatmulKernel(ScalarType.Float32, fp32Size, fp32Size, fp32Size, MatmulLayout.Linear);
        _bf16 = new MatmulKernel(ScalarType.BFloat16, bf16Size, bf16Size, bf16Size, MatmulLayout.Linear);
        _minSeconds = minSeconds;
        _fp32.Run();
        _bf16.Run();
    }

    /// <summary>Names the reference in ratio columns, e.g. "fp32 peak (2048^3 x.W^T)".</summary>
    public string Describe(ScalarType type) => $"{MatmulKernel.DTypeName(type)} peak ({Kernel(type).M}^3 x.W^T)";

    public MatmulKernel Kernel(ScalarType type) => type == ScalarType.BFloat16 ? _bf16 : _fp32;

    public PeakSample Measure() => new(_fp32.Gflops(_minSeconds), _bf16.Gflops(_minSeconds));

    public void Dispose()
    {
        _fp32.Dispose();
        _bf16.Dispose();
    }
}
