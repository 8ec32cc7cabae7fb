using System.Globalization;
using PeftSharp.Experiments;
using PeftSharp.Training;
using Spectre.Console;

namespace PeftSharp.Cli.Training;

/// <summary>
/// Progress of training commands: on an interactive terminal, Spectre.Console progress bars (one per run) with the
/// step, ETA, loss and throughput; otherwise one line per report on stderr, so stdout keeps only the result; in JSON
/// mode nothing at all.
/// </summary>
static class TrainingDisplay
{
    /// <summary>Runs <paramref name="work"/> with the display that suits the console.</summary>
    public static T Run<T>(CliConsole console, bool json, Func<IExperimentProgress, T> work)
    {
        if (json) return work(NoExperimentProgress.Instance);
        if (!console.Interactive) return work(new Lines(console.Error));
        T result = default!;
        console.Ansi.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context => result = work(new Bars(console, context)));
        return result;
    }

    /// <summary>"step 40/300 · loss 0.4213 · 5,120 tok/s · ETA 00:03:10" and the evaluation's first metrics.</summary>
    public static string Describe(TrainingProgress p)
    {
        string text = $"step {p.Step}/{p.TotalSteps} · loss {Numbers.Fixed(p.Loss, 4)} · {Numbers.Count((long)p.TokensPerSecond)} tok/s · ETA {Clock(p.Eta)}";
        if (p.Evaluation is { } evaluation)
            text += " · eval " + string.Join(" ", evaluation.Take(2).Select(m => $"{m.Key} {Numbers.Fixed(m.Value, 4)}"));
        return text;
    }

    static string Clock(TimeSpan span) => span.ToString(span.TotalHours >= 1 ? @"h\:mm\:ss" : @"mm\:ss", CultureInfo.InvariantCulture);

    sealed class Lines(TextWriter writer) : IExperimentProgress
    {
        public void Stage(string message)
        {
            writer.WriteLine(message);
            writer.Flush();
        }

        public IProgress<TrainingProgress> Training(string name) => new InlineProgress<TrainingProgress>(p => Stage($"[{name}] {Describe(p)}"));
    }

    sealed class Bars(CliConsole console, ProgressContext context) : IExperimentProgress
    {
        public void Stage(string message) => console.Ansi.MarkupLine($"[grey]{Markup.Escape(message)}[/]");

        public IProgress<TrainingProgress> Training(string name)
        {
            var task = context.AddTask(Markup.Escape(name), autoStart: true);
            return new InlineProgress<TrainingProgress>(p =>
            {
                task.MaxValue = Math.Max(1, p.TotalSteps);
                task.Value = p.Step;
                task.Description = $"{Markup.Escape(name)} [grey]{Markup.Escape(Describe(p))}[/]";
                if (p.Step >= p.TotalSteps) task.StopTask();
            });
        }
    }
}
