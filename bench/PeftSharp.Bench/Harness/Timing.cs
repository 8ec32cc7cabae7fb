using System.Diagnostics;

namespace PeftSharp.Bench.Harness;

/// <summary>Wall-clock measurement helpers.</summary>
public static class Timing
{
    /// <summary>Seconds one call of <paramref name="action"/> takes.</summary>
    public static double Seconds(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Mean seconds per call, repeating <paramref name="action"/> until <paramref name="minSeconds"/> have passed and it
    /// ran at least <paramref name="minReps"/> times.
    /// </summary>
    public static double SecondsPerRep(Action action, double minSeconds, int minReps = 1)
    {
        var clock = Stopwatch.StartNew();
        int reps = 0;
        do
        {
            action();
            reps++;
        } while (reps < minReps || clock.Elapsed.TotalSeconds < minSeconds);
        return clock.Elapsed.TotalSeconds / reps;
    }
}

/// <summary>A workload to measure: its name and a function returning one measurement (seconds, or a rate).</summary>
public sealed record Probe(string Name, Func<double> Measure);

/// <summary>One measurement of a workload with the reference measured just before and just after it.</summary>
public sealed record Bracketed<TRef>(double Value, TRef Before, TRef After);

/// <summary>
/// Interleaved measurement against a reference: per trial, reference, workload 1, reference, workload 2, reference,
/// ... so every workload measurement is bracketed by two reference measurements taken seconds apart in the same
/// process. A machine whose load changes during the run then moves the reference with the workload, and the ratio
/// (workload / mean of its two references) stays comparable where the raw figure does not.
/// </summary>
public static class Interleave
{
    /// <summary>
    /// Runs up to <paramref name="trials"/> trials (at least <paramref name="minTrials"/>; no new trial starts once
    /// <paramref name="budgetSeconds"/> have been spent). Returns each workload's bracketed measurements.
    /// </summary>
    public static Dictionary<string, List<Bracketed<TRef>>> Run<TRef>(BenchContext context, int trials, Func<TRef> reference,
        IReadOnlyList<Probe> workloads, double budgetSeconds, int minTrials = 2)
    {
        var results = workloads.ToDictionary(w => w.Name, _ => new List<Bracketed<TRef>>());
        var clock = Stopwatch.StartNew();
        for (int trial = 0; trial < trials; trial++)
        {
            if (trial >= minTrials && clock.Elapsed.TotalSeconds > budgetSeconds)
            {
                context.Log($"  time budget of {budgetSeconds:0} s spent after {trial} trial(s); stopping");
                break;
            }
            var before = reference();
            foreach (var workload in workloads)
            {
                double value = workload.Measure();
                var after = reference();
                results[workload.Name].Add(new Bracketed<TRef>(value, before, after));
                context.Log($"  trial {trial + 1}: {workload.Name} = {value:G4}  (reference before {before}, after {after})");
                before = after;
            }
        }
        return results;
    }
}
