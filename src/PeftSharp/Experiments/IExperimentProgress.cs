using PeftSharp.Training;

namespace PeftSharp.Experiments;

/// <summary>Where a long experiment reports: what happens now, and the step reports of each training run.</summary>
public interface IExperimentProgress
{
    /// <summary>A line saying what happens now.</summary>
    void Stage(string message);

    /// <summary>Receives the step reports of the training run called <paramref name="name"/>.</summary>
    IProgress<TrainingProgress> Training(string name);
}

/// <summary>Progress that goes nowhere (callers that pass none).</summary>
public sealed class NoExperimentProgress : IExperimentProgress
{
    /// <summary>The one instance.</summary>
    public static readonly NoExperimentProgress Instance = new();

    NoExperimentProgress() { }

    public void Stage(string message) { }

    public IProgress<TrainingProgress> Training(string name) => new InlineProgress<TrainingProgress>(_ => { });
}
