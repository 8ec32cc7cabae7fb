namespace PeftSharp.Data;

/// <summary>A dataset's training, validation and (optional) test examples.</summary>
public sealed record DataSplits<T>(IReadOnlyList<T> Train, IReadOnlyList<T> Validation, IReadOnlyList<T>? Test = null);

/// <summary>Deterministic train/validation splits.</summary>
public static class DataSplitter
{
    /// <summary>
    /// Splits <paramref name="examples"/> into training and validation parts: the indices are shuffled by a
    /// SplitMix64 generator seeded with <paramref name="seed"/>, the first round(n * fraction) (at least one) go to
    /// validation, and both parts keep the file's order. The same seed and data always give the same split.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not in (0, 1).</exception>
    /// <exception cref="ArgumentException">Fewer than two examples, so one part would be empty.</exception>
    public static (IReadOnlyList<T> Train, IReadOnlyList<T> Validation) Split<T>(IReadOnlyList<T> examples, double validationFraction, long seed)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "must be between 0 and 1 (exclusive)");
        if (examples.Count < 2) throw new ArgumentException($"{examples.Count} examples cannot be split into training and validation", nameof(examples));

        var order = Enumerable.Range(0, examples.Count).ToArray();
        SeededRandom.For(seed, 0x5B117).Shuffle(order);
        int validationCount = Math.Clamp((int)Math.Round(examples.Count * validationFraction, MidpointRounding.AwayFromZero), 1, examples.Count - 1);
        var isValidation = new bool[examples.Count];
        foreach (int index in order.Take(validationCount)) isValidation[index] = true;

        var train = new List<T>(examples.Count - validationCount);
        var validation = new List<T>(validationCount);
        for (int i = 0; i < examples.Count; i++) (isValidation[i] ? validation : train).Add(examples[i]);
        return (train, validation);
    }
}
