using System.Globalization;
using PeftSharp.Bench.Workloads;

namespace PeftSharp.Bench.Harness;

/// <summary>One command-line option of the benchmarks: its name, the value it takes (null for a flag) and what it does.</summary>
public sealed record BenchOptionSpec(string Name, string? ValueName, string Description);

/// <summary>Command-line options shared by every suite.</summary>
public sealed record BenchOptions
{
    /// <summary>Suite name, or "all".</summary>
    public required string Suite { get; init; }

    /// <summary>JSON output path; null: bench/results/&lt;suite&gt;-&lt;date&gt;.json (with <see cref="Json"/>: no file).</summary>
    public string? Out { get; init; }

    /// <summary>Print the results as one JSON document on stdout instead of tables.</summary>
    public bool Json { get; init; }

    /// <summary>Trials per workload (each trial is bracketed by reference measurements).</summary>
    public int Trials { get; init; } = 3;

    /// <summary>Torch intra-op threads; default every core.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Folder of generated checkpoints (git-ignored; reused when present).</summary>
    public required string CacheDirectory { get; init; }

    /// <summary>Comma-separated substrings; a workload runs if its name contains one (null: all).</summary>
    public string? Filter { get; init; }

    /// <summary>Model shape of the adapters, lora and train suites (<see cref="ModelShape.Selectable"/>).</summary>
    public string Shape { get; init; } = ModelShape.BertBase.Name;

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

    /// <summary>
    /// Every option, in the order usage texts list them. <see cref="Parse"/> reads exactly these; the <c>peft bench</c>
    /// command builds its options from this list, so the two command lines cannot drift apart.
    /// </summary>
    public static readonly IReadOnlyList<BenchOptionSpec> Specs = new BenchOptionSpec[]
    {
        new("--out", "PATH", "JSON output (default bench/results/<suite>-<yyyy-MM-dd>.json; \"all\" writes one per suite; with --json a file only where --out is given)"),
        new("--json", null, "print the results as one JSON document on stdout (an array of them for \"all\") instead of tables; progress still goes to stderr"),
        new("--trials", "N", "interleaved trials per workload (default 3)"),
        new("--budget", "S", "a workload group starts no new trial after S seconds, once it has two (default 150)"),
        new("--threads", "N", "torch intra-op threads (default: all cores; on a shared machine use 1)"),
        new("--filter", "A,B", "run only workloads whose name contains A or B (e.g. bert, llama, prefill, decode, 1x128, LoRA, mixed, train step, checkpointing)"),
        new("--shape", "NAME", $"model of the adapters, lora and train suites: {string.Join(", ", ModelShape.Selectable.Select(s => s.Name))} (default bert-base)"),
        new("--min-seconds", "S", "repeat each short measurement for at least S seconds (default 0.4)"),
        new("--peak-size", "N", "side of the square fp32 reference matmul behind every fp32 peak ratio (default 2048)"),
        new("--peak-size-bf16", "N", "the same for bf16 (default: as fp32 where the CPU has avx512_bf16 or amx_bf16, else 1024)"),
        new("--cache", "DIR", "generated checkpoints (default bench/.cache)"),
    };

    /// <summary>The option lines of a usage text.</summary>
    public static string OptionsUsage() => string.Join(Environment.NewLine,
        Specs.Select(s => $"  {(s.ValueName is null ? s.Name : $"{s.Name} {s.ValueName}"),-19} {s.Description}"));

    /// <summary>Parses the arguments (suite first); throws <see cref="ArgumentException"/> naming the problem.</summary>
    public static BenchOptions Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-')) throw new ArgumentException("name a suite first");
        string root = FindRepositoryRoot();
        string suite = args[0].ToLowerInvariant();
        string? output = null, filter = null;
        string cache = Path.Combine(root, "bench", ".cache"), shape = ModelShape.BertBase.Name;
        bool json = false;
        int trials = 3, threads = Environment.ProcessorCount, peak = 2048;
        int? peakBf16 = null;
        double minSeconds = 0.4, budget = 150;
        for (int i = 1; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--out": output = Path.GetFullPath(Value()); break;
                case "--json": json = true; break;
                case "--trials": trials = PositiveInt("--trials", Value()); break;
                case "--threads": threads = PositiveInt("--threads", Value()); break;
                case "--filter": filter = Value(); break;
                case "--shape": shape = ShapeName(Value()); break;
                case "--cache": cache = Path.GetFullPath(Value()); break;
                case "--min-seconds": minSeconds = PositiveDouble("--min-seconds", Value()); break;
                case "--budget": budget = PositiveDouble("--budget", Value()); break;
                case "--peak-size": peak = PositiveInt("--peak-size", Value()); break;
                case "--peak-size-bf16": peakBf16 = PositiveInt("--peak-size-bf16", Value()); break;
                default: throw new ArgumentException($"unknown option '{args[i]}' (options: {string.Join(", ", Specs.Select(s => s.Name))})");
            }
        }
        return new BenchOptions
        {
            Suite = suite, Out = output, Json = json, Trials = trials, Threads = threads, CacheDirectory = cache, Filter = filter, Shape = shape,
            MinSeconds = minSeconds, BudgetSeconds = budget, PeakSize = peak, PeakSizeBf16 = peakBf16, RepositoryRoot = root,
        };
    }

    static string ShapeName(string text) =>
        ModelShape.Find(text)?.Name
        ?? throw new ArgumentException($"--shape must be one of {string.Join(", ", ModelShape.Selectable.Select(s => s.Name))}, got '{text}'");

    static int PositiveInt(string name, string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0 ? v : throw new ArgumentException($"{name} must be a positive integer, got '{text}'");

    static double PositiveDouble(string name, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v)
            ? v : throw new ArgumentException($"{name} must be a positive number, got '{text}'");

    static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PeftSharp.slnx"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
