namespace PeftSharp.Data;

/// <summary>
/// SplitMix64: a small generator whose sequence is fixed by its seed on every platform and .NET version, so that
/// splits, shuffles and masks can be reproduced from (seed, epoch, batch).
/// </summary>
sealed class SeededRandom
{
    ulong _state;

    public SeededRandom(ulong seed) => _state = seed;

    /// <summary>A generator seeded from several numbers (e.g. seed, epoch, batch), each mixed in turn.</summary>
    public static SeededRandom For(params long[] parts)
    {
        ulong state = 0x5DEECE66DUL;
        foreach (long part in parts) state = Mix(state ^ (ulong)part);
        return new SeededRandom(state);
    }

    /// <summary>A seed for a sub-stream derived from several numbers.</summary>
    public static ulong Seed(params long[] parts) => For(parts).NextUInt64();

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, <paramref name="count"/>) (multiply-shift; bias below 2^-32).</summary>
    public int Next(int count)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "must be positive");
        return (int)(((NextUInt64() >> 32) * (ulong)count) >> 32);
    }

    /// <summary>Fisher-Yates shuffle in place.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
