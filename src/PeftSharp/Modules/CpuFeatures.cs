namespace PeftSharp.Modules;

/// <summary>What the processor offers that changes which dtype is fast.</summary>
public static class CpuFeatures
{
    static readonly Lazy<HashSet<string>> Flags = new(ReadFlags);

    /// <summary>
    /// True when the CPU has native bfloat16 matrix instructions (avx512_bf16 or AMX). Without them libtorch emulates
    /// bf16 matmuls and they run several times slower than float32 (measured: 0.13-0.18x on a Zen 3 EPYC, see
    /// docs/benchmarks.md), so bf16 only saves memory there.
    /// </summary>
    public static bool HasFastBFloat16 => Flags.Value.Contains("avx512_bf16") || Flags.Value.Contains("amx_bf16");

    /// <summary>The flags line of /proc/cpuinfo (empty off Linux).</summary>
    public static IReadOnlyCollection<string> All => Flags.Value;

    static HashSet<string> ReadFlags()
    {
        try
        {
            if (!File.Exists("/proc/cpuinfo")) return new HashSet<string>();
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
            return line is null ? new HashSet<string>() : line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        }
        catch (IOException)
        {
            return new HashSet<string>();
        }
    }
}
