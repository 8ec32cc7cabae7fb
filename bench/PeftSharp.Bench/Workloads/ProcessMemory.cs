using System.Runtime.InteropServices;

namespace PeftSharp.Bench.Workloads;

/// <summary>
/// The process's resident memory, as Linux reports it, for measuring what a training step holds. Two things make the
/// resident set usable for that (both Linux and glibc only; elsewhere <see cref="IsSupported"/> is false):
/// <list type="bullet">
/// <item>By default glibc keeps freed blocks of up to 32 MB in the process for reuse (its mmap threshold grows with the
/// blocks freed), so a step that reuses the previous step's freed activations shows no rise at all.
/// <see cref="ReturnFreedMemory"/> fixes the threshold at 64 KiB while it is in force: every tensor of 64 KiB or more is
/// its own mapping, returned to the system when freed, so the resident set follows the live tensors (libtorch's CPU
/// allocator is plain malloc). This slows allocation down, which is why no time is measured under it.</item>
/// <item>The peak (VmHWM) is reset by writing 5 to /proc/self/clear_refs, so each measurement sees its own peak.</item>
/// </list>
/// </summary>
public static partial class ProcessMemory
{
    const int MallocMmapThreshold = -3;          // glibc's M_MMAP_THRESHOLD
    const int GlibcDefaultMmapThreshold = 128 * 1024;
    const int MeasuringMmapThreshold = 64 * 1024;

    [LibraryImport("libc.so.6", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);

    [LibraryImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    static bool? _supported;

    /// <summary>Whether the resident set and its peak can be read and reset, and glibc's malloc be told to return memory.</summary>
    public static bool IsSupported => _supported ??= Probe();

    static bool Probe()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/self/status")) return false;
        try
        {
            MallocTrim(0);
            ResetPeak();
            return ResidentBytes() > 0 && PeakResidentBytes() > 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Until disposed, freed tensors leave the process (mmap threshold fixed at 64 KiB). Disposing puts the threshold
    /// back to glibc's default of 128 KiB; glibc's dynamic threshold stays off for the rest of the process (a process
    /// running further suites afterwards allocates large blocks from fresh mappings, as it did when it started).
    /// </summary>
    public static IDisposable ReturnFreedMemory()
    {
        if (!IsSupported) throw new PlatformNotSupportedException("resident-memory measurements need Linux with glibc");
        if (MallOpt(MallocMmapThreshold, MeasuringMmapThreshold) != 1) throw new InvalidOperationException("mallopt(M_MMAP_THRESHOLD) failed");
        return new Restore();
    }

    /// <summary>
    /// Frees what can be freed before a baseline is read: managed tensors awaiting finalization, then glibc's free
    /// blocks at the top of its heaps.
    /// </summary>
    public static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        if (IsSupported) MallocTrim(0);
    }

    /// <summary>Resident set size now (VmRSS), bytes.</summary>
    public static long ResidentBytes() => StatusKilobytes("VmRSS") * 1024;

    /// <summary>Highest resident set size since the last <see cref="ResetPeak"/> (VmHWM), bytes.</summary>
    public static long PeakResidentBytes() => StatusKilobytes("VmHWM") * 1024;

    /// <summary>Starts a new peak from the resident set size now.</summary>
    public static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    static long StatusKilobytes(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        throw new IOException($"/proc/self/status has no {field}");
    }

    sealed class Restore : IDisposable
    {
        bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            MallOpt(MallocMmapThreshold, GlibcDefaultMmapThreshold);
        }
    }
}
