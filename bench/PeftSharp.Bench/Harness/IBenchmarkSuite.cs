namespace PeftSharp.Bench.Harness;

/// <summary>
/// One benchmark suite: a name for the command line and a run that returns result rows. Register a new suite with one
/// line in <see cref="SuiteRegistry"/>.
/// </summary>
public interface IBenchmarkSuite
{
    /// <summary>Command-line name, e.g. "peak".</summary>
    string Name { get; }

    /// <summary>One line for the usage text.</summary>
    string Description { get; }

    /// <summary>Runs the suite's workloads (those <see cref="BenchContext.Includes"/> accepts) and returns their figures.</summary>
    IReadOnlyList<ResultRow> Run(BenchContext context);
}

/// <summary>The suites the program offers, in the order "all" runs them.</summary>
public static class SuiteRegistry
{
    public static readonly IReadOnlyList<IBenchmarkSuite> All = new IBenchmarkSuite[]
    {
        new Suites.PeakSuite(),
        new Suites.LoadSuite(),
        new Suites.ForwardSuite(),
        new Suites.AdaptersSuite(),
        new Suites.ProfileSuite(),
        new Suites.LoraSuite(),
        // Last: its memory figures change glibc's allocation settings for the rest of the process (see ProcessMemory).
        new Suites.TrainSuite(),
    };

    public static IBenchmarkSuite? Find(string name) => All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
}
