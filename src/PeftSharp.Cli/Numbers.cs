using System.Globalization;

namespace PeftSharp.Cli;

/// <summary>Number formats of human output, independent of the machine's culture.</summary>
static class Numbers
{
    /// <summary>12,345.</summary>
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A fixed number of decimals: 12.35.</summary>
    public static string Fixed(double value, int decimals) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);
}
