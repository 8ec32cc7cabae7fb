using System.Globalization;

namespace PeftSharp.Bench.Harness;

/// <summary>Command-line options shared by every suite.</summary>
public sealed record BenchOptions
{
    /// <summary>Suite name, or "all".</summary>
    public required string Suite { get; init; }

    /// <summary>JSON output path; null: bench/results/&lt;suite&gt;-&lt;date&gt;.json.</summary>
    public string? Out { get; init; }

    /// <summary>Trials per workload (each trial is bracketed by reference measurements).</summary>
    public int Trials { get; init; } = 3;

    /// <summary>Torch intra-op threads; default every core.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Folder of generated checkpoints (git-ignored; reused when present).</summary>
    public required string CacheDirectory { get; init; }

    /// <summary>Comma-separated substrings; a workload runs if its name contains one (null: all).</summary>
    public string? Filter { get; init; }

    /// <summary>Minimum seconds of repeats behind one matmul or latency measurement.</summary>
    public double MinSeconds { get; init; } = 0.4;

    /// <summary>Seconds after which a workload group starts no new trial (it still runs at least two).</summary>
    public double BudgetSeconds { get; init; } = 150;

    /// <summary>Side of the square fp32 reference matmul (x[n,n] · W[n,n]^T) whose GFLOP/s is the fp32 peak of every ratio.</summary>
    public int PeakSize { get; init; } = 2048;

    /// <summary>Side of the bf16 reference; null: as fp32 on CPUs with a native bf16 GEMM, else at most 1024.</summary>
    public int? PeakSizeBf16 { get; init; }

    /// <summary>The repository root (holds PeftSharp.slnx), or the working directory.</summary>
    public required string RepositoryRoot { get; init; }

    public const string Usage = """
        usage: dotnet run -c Release --project bench/PeftSharp.Bench -- <suite> [options]
          suites: {SUITES}, all
          --out PATH        JSON output (default bench/results/<suite>-<yyyy-MM-dd>.json; "all" writes one per suite)
          --trials N        interleaved trials per workload (default 3)
          --budget S        a workload group starts no new trial after S seconds, once it has two (default 150)
          --threads N       torch intra-op threads (default: all cores)
          --filter A,B      run only workloads whose name contains A or B (e.g. bert, llama, prefill, decode, 1x128, LoRA)
          --min-seconds S   repeat each short measurement for at least S seconds (default 0.4)
          --peak-size N     side of the square fp32 reference matmul behind every fp32 peak ratio (default 2048)
          --peak-size-bf16 N  the same for bf16 (default: as fp32 where the CPU has avx512_bf16 or amx_bf16, else 1024)
          --cache DIR       generated checkpoints (default bench/.cache)
        """;

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> with the problem.</summary>
    public static BenchOptions Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-')) throw new ArgumentException("name a suite first");
        string root = FindRepositoryRoot();
        string suite = args[0].ToLowerInvariant();
        string? output = null, filter = null;
        string cache = Path.Combine(root, "bench", ".cache");
        int trials = 3, threads = Environment.ProcessorCount, peak = 2048;
        int? peakBf16 = null;
        double minSeconds = 0.4, budget = 150;
        for (int i = 1; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--out": output = Path.GetFullPath(Value()); break;
                case "--trials": trials = PositiveInt("--trials", Value()); break;
                case "--threads": threads = PositiveInt("--threads", Value()); break;
                case "--filter": filter = Value(); break;
                case "--cache": cache = Path.GetFullPath(Value()); break;
                case "--min-seconds": minSeconds = PositiveDouble("--min-seconds", Value()); break;
                case "--budget": budget = PositiveDouble("--budget", Value()); break;
                case "--peak-size": peak = PositiveInt("--peak-size", Value()); break;
                case "--peak-size-bf16": peakBf16 = PositiveInt("--peak-size-bf16", Value()); break;
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        return new BenchOptions
        {
            Suite = suite, Out = output, Trials = trials, Threads = threads, CacheDirectory = cache, Filter = filter,
            MinSeconds = minSeconds, BudgetSeconds = budget, PeakSize = peak, PeakSizeBf16 = peakBf16, RepositoryRoot = root,
        };
    }

    static int PositiveInt(string name, string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0 ? v : throw new ArgumentException($"{name} must be a positive integer, got '{text}'");

    static double PositiveDouble(string name, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 ? v : throw new ArgumentException($"{name} must be a positive number, got '{text}'");

    static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PeftSharp.slnx"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
