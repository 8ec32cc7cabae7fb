using System.Globalization;
using System.Runtime.InteropServices;

namespace PeftSharp.Experiments;

/// <summary>
/// The process's resident memory on Linux, from /proc/self/status: VmRSS (now) and VmHWM (the peak). The peak is reset
/// by writing 5 to /proc/self/clear_refs; freed heap pages are first handed back to the system (glibc's malloc_trim),
/// so that the next peak reflects live memory rather than what an earlier run left in malloc's free lists. Elsewhere
/// every figure is null.
/// </summary>
public static partial class ProcessMemory
{
    const string Status = "/proc/self/status";
    const string ClearRefs = "/proc/self/clear_refs";

    /// <summary>True on Linux with /proc.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && File.Exists(Status);

    /// <summary>Resident bytes now (VmRSS), or null.</summary>
    public static long? ResidentBytes => Read("VmRSS:");

    /// <summary>Peak resident bytes since the start or the last <see cref="ResetPeak"/> (VmHWM), or null.</summary>
    public static long? PeakBytes => Read("VmHWM:");

    /// <summary>
    /// Collects garbage (disposed TorchSharp tensors' owners), returns free heap pages to the system and resets the
    /// peak to the current resident size. Returns the resident bytes after that, or null when unsupported.
    /// </summary>
    public static long? ResetPeak()
    {
        if (!IsSupported) return null;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        try
        {
            malloc_trim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc: freed pages may stay resident and count towards the next peak.
        }
        try
        {
            File.WriteAllText(ClearRefs, "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return ResidentBytes;
    }

    static long? Read(string field)
    {
        if (!IsSupported) return null;
        foreach (string line in File.ReadLines(Status))
        {
            if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
            var parts = line[field.Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);   // "\t  123456 kB"
            return long.Parse(parts[0], CultureInfo.InvariantCulture) * 1024;
        }
        return null;
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int malloc_trim(nuint pad);
}
