using PeftSharp.Tasks;

namespace PeftSharp.Tests.Tasks;

/// <summary>Metrics against values worked out by hand and textbook examples.</summary>
public class MetricsTests
{
    [Fact]
    public void AccuracyCountsMatches()
    {
        Assert.Equal(0.5, ClassificationMetrics.Accuracy([0, 2, 1, 3], [0, 1, 2, 3]));
        Assert.Equal(1.0, ClassificationMetrics.Accuracy([1], [1]));
    }

    [Fact]
    public void MacroF1AveragesPerClassF1()
    {
        // scikit-learn's f1_score docs: y_true [0,1,2,0,1,2], y_pred [0,2,1,0,0,1] -> macro 0.26666...
        // class 0: TP 2, FP 1, FN 0 -> 4/5; classes 1 and 2: TP 0 -> 0; mean 0.8/3.
        Assert.Equal(0.8 / 3, ClassificationMetrics.MacroF1([0, 2, 1, 0, 0, 1], [0, 1, 2, 0, 1, 2]), 12);
        // A class only predicted (never true) still counts, with F1 0: classes {0, 1}: F1(0) = 2/3, F1(1) = 0.
        Assert.Equal(1.0 / 3, ClassificationMetrics.MacroF1([0, 1], [0, 0]), 12);
    }

    [Fact]
    public void MatthewsCorrelationBinaryMatchesTheTextbookFormula()
    {
        // TP 3, TN 2, FP 1, FN 1: (3*2 - 1*1) / sqrt(4 * 4 * 3 * 3) = 5/12.
        int[] actual = [1, 1, 1, 1, 0, 0, 0];
        int[] predicted = [1, 1, 1, 0, 0, 0, 1];
        Assert.Equal(5.0 / 12, ClassificationMetrics.MatthewsCorrelation(predicted, actual), 12);
        // scikit-learn's docs example: y_true [+1,+1,+1,-1], y_pred [+1,-1,+1,+1] -> -0.33333.
        Assert.Equal(-1.0 / 3, ClassificationMetrics.MatthewsCorrelation([1, -1, 1, 1], [1, 1, 1, -1]), 12);
    }

    [Fact]
    public void MatthewsCorrelationMultiClassIsGorodkinsRk()
    {
        // actual [0,0,1,1,2,2], predicted [0,1,1,1,2,0]: c = 4, s = 6, t = (2,2,2), p = (2,3,1)
        // (c s - sum p t) / sqrt((s^2 - sum p^2)(s^2 - sum t^2)) = (24 - 12) / sqrt((36 - 14)(36 - 12)) = 12 / sqrt(528).
        Assert.Equal(12 / Math.Sqrt(528), ClassificationMetrics.MatthewsCorrelation([0, 1, 1, 1, 2, 0], [0, 0, 1, 1, 2, 2]), 12);
        Assert.Equal(1.0, ClassificationMetrics.MatthewsCorrelation([2, 0, 1], [2, 0, 1]), 12);
        Assert.Equal(0.0, ClassificationMetrics.MatthewsCorrelation([1, 1, 1], [0, 1, 2])); // constant prediction: denominator 0
    }

    [Fact]
    public void ConfusionMatrixIsActualByPredicted()
    {
        var matrix = ClassificationMetrics.ConfusionMatrix([0, 1, 1], [0, 0, 1], 2);
        Assert.Equal(new long[,] { { 1, 1 }, { 0, 1 } }, matrix);
    }

    [Fact]
    public void PearsonAndSpearmanByHand()
    {
        Assert.Equal(1.0, CorrelationMetrics.Pearson([1, 2, 3], [2, 4, 6]), 12);
        Assert.Equal(-1.0, CorrelationMetrics.Pearson([1, 2, 3], [3, 2, 1]), 12);
        // x = [1,2,3,4], y = [1,3,2,4]: dx (-1.5,-0.5,0.5,1.5), dy (-1.5,0.5,-0.5,1.5); sum dx dy = 2.25-0.25-0.25+2.25 = 4; sum dx^2 = sum dy^2 = 5 -> 0.8.
        Assert.Equal(0.8, CorrelationMetrics.Pearson([1, 2, 3, 4], [1, 3, 2, 4]), 12);
        // Spearman is Pearson of ranks: monotone but not linear -> 1.
        Assert.Equal(1.0, CorrelationMetrics.Spearman([1, 2, 3, 4], [1, 10, 100, 1000]), 12);
        Assert.True(double.IsNaN(CorrelationMetrics.Pearson([1, 1, 1], [1, 2, 3])));
    }

    [Fact]
    public void SpearmanAveragesTiedRanks()
    {
        Assert.Equal([1.5, 1.5, 3, 4], CorrelationMetrics.Ranks([5, 5, 7, 9]));
        Assert.Equal([2, 4, 2, 2], CorrelationMetrics.Ranks([1, 2, 1, 1]));
        // Ranks x: [1.5,1.5,3,4], y: [1,2,3,4]: means 2.5; dx (-1,-1,0.5,1.5), dy (-1.5,-0.5,0.5,1.5);
        // sum dx dy = 1.5+0.5+0.25+2.25 = 4.5; sum dx^2 = 4.5; sum dy^2 = 5 -> 4.5 / sqrt(22.5) = 0.948683...
        Assert.Equal(4.5 / Math.Sqrt(22.5), CorrelationMetrics.Spearman([5, 5, 7, 9], [1, 2, 3, 4]), 12);
    }

    [Fact]
    public void PerplexityIsExpOfMeanTokenLoss()
    {
        Assert.Equal(Math.E, LanguageModelMetrics.Perplexity(1.0), 12);
        Assert.Equal(4.0, LanguageModelMetrics.Perplexity(Math.Log(4) * 10, 10), 12);
        // A uniform model over V tokens has perplexity V.
        Assert.Equal(50257, LanguageModelMetrics.Perplexity(Math.Log(50257)), 6);
    }

    [Fact]
    public void RejectsMismatchedOrEmptyInputs()
    {
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.Accuracy([1, 2], [1]));
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.MacroF1([], []));
        Assert.Throws<ArgumentException>(() => CorrelationMetrics.Pearson([1], [1]));
        Assert.Throws<ArgumentException>(() => CorrelationMetrics.Spearman([1, double.NaN], [1, 2]));
    }
}
