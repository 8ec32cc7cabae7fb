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
