using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace PeftSharp.Bench.Harness;

/// <summary>Facts about the machine and runtime that a figure depends on, printed above every table.</summary>
public sealed record MachineInfo
{
    public required int Cores { get; init; }
    public required int TorchThreads { get; init; }
    public required int TorchInteropThreads { get; init; }
    public required string CpuModel { get; init; }

    /// <summary>Which of the CPU flags that decide matmul kernels are present (avx2, avx512f, avx512bw, avx512_bf16, amx_bf16, ...).</summary>
    public required IReadOnlyDictionary<string, bool> CpuFlags { get; init; }

    public required string LoadAverage { get; init; }
    public required double MemoryTotalGb { get; init; }
    public required double MemoryAvailableGb { get; init; }
    public required string Runtime { get; init; }
    public required string TorchSharp { get; init; }
    public required string Os { get; init; }

    static readonly string[] InterestingFlags = { "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16" };

    /// <summary>Reads the facts after torch's thread count has been set.</summary>
    public static MachineInfo Collect()
    {
        string cpuinfo = ReadOrEmpty("/proc/cpuinfo");
        string model = Field(cpuinfo, "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        var flags = (Field(cpuinfo, "flags") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        string meminfo = ReadOrEmpty("/proc/meminfo");
        return new MachineInfo
        {
            Cores = Environment.ProcessorCount,
            TorchThreads = get_num_threads(),
            TorchInteropThreads = get_num_interop_threads(),
            CpuModel = model,
            CpuFlags = InterestingFlags.ToDictionary(f => f, flags.Contains),
            LoadAverage = ReadOrEmpty("/proc/loadavg").Trim(),
            MemoryTotalGb = KbField(meminfo, "MemTotal") / 1e6,
            MemoryAvailableGb = KbField(meminfo, "MemAvailable") / 1e6,
            Runtime = RuntimeInformation.FrameworkDescription,
            TorchSharp = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "?",
            Os = RuntimeInformation.OSDescription,
        };
    }

    /// <summary>The load average now (it changes during a run; the JSON keeps the one at start and at end).</summary>
    public static string CurrentLoadAverage() => ReadOrEmpty("/proc/loadavg").Trim();

    public IEnumerable<string> Lines()
    {
        yield return $"cpu: {CpuModel}, {Cores} cores; torch threads {TorchThreads} (inter-op {TorchInteropThreads})";
        yield return "cpu flags: " + string.Join(" ", CpuFlags.Select(f => $"{f.Key}={(f.Value ? "yes" : "no")}"));
        yield return $"memory: {MemoryTotalGb:0.0} GB total, {MemoryAvailableGb:0.0} GB available; load average {LoadAverage}";
        yield return $"runtime: {Runtime}, TorchSharp {TorchSharp}, {Os}";
    }

    static string ReadOrEmpty(string path)
    {
        try { return File.Exists(path) ? File.ReadAllText(path) : ""; }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }

    static string? Field(string text, string name) =>
        text.Split('\n').Where(l => l.StartsWith(name, StringComparison.Ordinal) && l.Contains(':'))
            .Select(l => l[(l.IndexOf(':') + 1)..].Trim()).FirstOrDefault();

    static double KbField(string text, string name) =>
        Field(text, name) is { } value && double.TryParse(value.Split(' ')[0], out double kb) ? kb : double.NaN;
}
