namespace PeftSharp.Tasks;

/// <summary>
/// Metrics over predicted and true class ids: accuracy, macro-averaged F1 and the Matthews correlation
/// coefficient in Gorodkin's multi-class form (scikit-learn's definitions).
/// </summary>
public static class ClassificationMetrics
{
    /// <summary>Share of positions where the prediction equals the truth.</summary>
    public static double Accuracy(IReadOnlyList<int> predicted, IReadOnlyList<int> actual)
    {
        Check(predicted, actual);
        int correct = 0;
        for (int i = 0; i < actual.Count; i++) if (predicted[i] == actual[i]) correct++;
        return (double)correct / actual.Count;
    }

    /// <summary>
    /// Unweighted mean over classes of F1 = 2 TP / (2 TP + FP + FN), over every class that occurs in the truth or
    /// the predictions (scikit-learn's <c>f1_score(average="macro")</c>).
    /// </summary>
    public static double MacroF1(IReadOnlyList<int> predicted, IReadOnlyList<int> actual)
    {
        Check(predicted, actual);
        var classes = predicted.Concat(actual).Distinct().Order().ToList();
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        var truePositives = new long[classes.Count];
        var predictedCounts = new long[classes.Count];
        var actualCounts = new long[classes.Count];
        for (int i = 0; i < actual.Count; i++)
        {
            int p = index[predicted[i]], a = index[actual[i]];
            predictedCounts[p]++;
            actualCounts[a]++;
            if (p == a) truePositives[a]++;
        }
        double sum = 0;
        for (int k = 0; k < classes.Count; k++)
        {
            long denominator = predictedCounts[k] + actualCounts[k]; // 2 TP + FP + FN
            sum += denominator == 0 ? 0 : 2.0 * truePositives[k] / denominator;
        }
        return sum / classes.Count;
    }

    /// <summary>
    /// Matthews correlation coefficient, Gorodkin's R_K for K classes: with the confusion matrix C, c = trace,
    /// s = total, t_k = true count and p_k = predicted count of class k,
    /// MCC = (c s − Σ p_k t_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²)); 0 when the denominator is 0. For two classes it
    /// equals (TP TN − FP FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)).
    /// </summary>
    public static double MatthewsCorrelation(IReadOnlyList<int> predicted, IReadOnlyList<int> actual)
    {
        Check(predicted, actual);
        var predictedCounts = new Dictionary<int, long>();
        var actualCounts = new Dictionary<int, long>();
        long correct = 0, total = actual.Count;
        for (int i = 0; i < actual.Count; i++)
        {
            predictedCounts[predicted[i]] = predictedCounts.GetValueOrDefault(predicted[i]) + 1;
            actualCounts[actual[i]] = actualCounts.GetValueOrDefault(actual[i]) + 1;
            if (predicted[i] == actual[i]) correct++;
        }
        double productSum = 0;
        foreach (var (label, p) in predictedCounts) productSum += (double)p * actualCounts.GetValueOrDefault(label);
        double predictedSquares = predictedCounts.Values.Sum(p => (double)p * p);
        double actualSquares = actualCounts.Values.Sum(t => (double)t * t);
        double s2 = (double)total * total;
        double denominator = Math.Sqrt((s2 - predictedSquares) * (s2 - actualSquares));
        return denominator == 0 ? 0 : ((double)correct * total - productSum) / denominator;
    }

    /// <summary>Confusion matrix [actual, predicted] over classes 0..<paramref name="classes"/>-1.</summary>
    public static long[,] ConfusionMatrix(IReadOnlyList<int> predicted, IReadOnlyList<int> actual, int classes)
    {
        Check(predicted, actual);
        var matrix = new long[classes, classes];
        for (int i = 0; i < actual.Count; i++)
        {
            if ((uint)predicted[i] >= (uint)classes || (uint)actual[i] >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(classes), $"class {Math.Max(predicted[i], actual[i])} at position {i} is outside 0..{classes - 1}");
            matrix[actual[i], predicted[i]]++;
        }
        return matrix;
    }

    static void Check(IReadOnlyList<int> predicted, IReadOnlyList<int> actual)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(actual);
        if (predicted.Count != actual.Count) throw new ArgumentException($"{predicted.Count} predictions for {actual.Count} labels", nameof(predicted));
        if (actual.Count == 0) throw new ArgumentException("no labels to score", nameof(actual));
    }
}
