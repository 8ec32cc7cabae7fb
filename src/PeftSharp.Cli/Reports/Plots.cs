using PeftSharp.Training;
using ScottPlot;

namespace PeftSharp.Cli.Reports;

/// <summary>The report's PNG figures, drawn with ScottPlot.</summary>
static class Plots
{
    const int Width = 1000, Height = 600;

    /// <summary>Training loss against step, one line per run, smoothed by a moving average over <paramref name="window"/> steps.</summary>
    public static void LossCurves(string path, string title, IEnumerable<(string Name, IReadOnlyList<TrainingProgress> History)> runs, int window = 10)
    {
        var plot = new Plot();
        foreach (var (name, history) in runs)
        {
            var points = history.Where(h => double.IsFinite(h.Loss)).ToList();
            if (points.Count == 0) continue;
            var steps = points.Select(h => (double)h.Step).ToArray();
            var line = plot.Add.ScatterLine(steps, MovingAverage(points.Select(h => h.Loss).ToArray(), window));
            line.LegendText = name;
            line.LineWidth = 2;
        }
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel(window > 1 ? $"training loss (moving average of {window} steps)" : "training loss");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>A score against the percentage of trainable parameters, on a log-10 x axis, one labelled point per method.</summary>
    public static void ScoreAgainstTrainable(string path, string title, string scoreLabel, IEnumerable<(string Name, double Percent, double Score)> points)
    {
        var plot = new Plot();
        var list = points.Where(p => p.Percent > 0 && double.IsFinite(p.Score)).ToList();
        foreach (var (name, percent, score) in list)
        {
            double x = Math.Log10(percent);
            var marker = plot.Add.Marker(x, score, MarkerShape.FilledCircle, 10);
            marker.LegendText = name;
            var label = plot.Add.Text(name, x, score);
            label.LabelFontSize = 14;
            label.OffsetX = 8;
            label.OffsetY = -8;
        }
        plot.Axes.Bottom.TickGenerator = LogTicks(value => value >= 1 ? $"{value:0.#}%" : $"{value:0.####}%");
        plot.Title(title);
        plot.XLabel("trainable parameters, % of the model (log scale)");
        plot.YLabel(scoreLabel);
        if (list.Count > 0)
        {
            double low = list.Min(p => Math.Log10(p.Percent)), high = list.Max(p => Math.Log10(p.Percent));
            plot.Axes.SetLimitsX(low - 0.3, high + 0.6);
        }
        plot.SavePng(path, Width, Height);
    }

    /// <summary>Score against training-set size (log-10 x axis), one line per method.</summary>
    public static void ScoreAgainstDataSize(string path, string title, string scoreLabel, IEnumerable<(string Name, IReadOnlyList<(int Size, double Score)> Points)> runs)
    {
        var plot = new Plot();
        foreach (var (name, points) in runs)
        {
            var valid = points.Where(p => double.IsFinite(p.Score)).OrderBy(p => p.Size).ToList();
            if (valid.Count == 0) continue;
            var line = plot.Add.Scatter(valid.Select(p => Math.Log10(p.Size)).ToArray(), valid.Select(p => p.Score).ToArray());
            line.LegendText = name;
            line.LineWidth = 2;
            line.MarkerSize = 7;
        }
        plot.Axes.Bottom.TickGenerator = LogTicks(value => $"{value:N0}");
        plot.Title(title);
        plot.XLabel("training examples (log scale)");
        plot.YLabel(scoreLabel);
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>Ticks of a log-10 axis whose data are log10(x): labels show x, minor ticks fall at 2..9 × 10^k.</summary>
    static ScottPlot.TickGenerators.NumericAutomatic LogTicks(Func<double, string> format) => new()
    {
        MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = y => format(Math.Pow(10, y)),
    };

    static double[] MovingAverage(double[] values, int window)
    {
        var result = new double[values.Length];
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            sum += values[i];
            if (i >= window) sum -= values[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }
}
