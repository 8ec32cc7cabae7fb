using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Training;

/// <summary>
/// TorchSharp's AdamW over the float32 masters of a run, in two parameter groups (with and without weight decay), with
/// its per-parameter state (step count and both moments) readable and writable by parameter name for checkpoints.
/// TorchSharp's own optimizer files identify parameters by position in an opaque binary format; saving the moments by
/// name in safetensors is just as exact and can be checked against the model.
/// </summary>
internal sealed class TrainingOptimizer : IDisposable
{
    readonly AdamW _adamW;
    readonly List<(string Name, AdamW.State State)> _states = new();

    public TrainingOptimizer(TrainableParameters parameters, TrainingOptions options)
    {
        var groups = new List<(List<TrainableParameters.Entry> Entries, double Decay)>
        {
            (parameters.Entries.Where(e => e.Decays).ToList(), options.WeightDecay),
            (parameters.Entries.Where(e => !e.Decays).ToList(), 0.0),
        };
        groups.RemoveAll(g => g.Entries.Count == 0);
        var paramGroups = groups.Select(g => new AdamW.ParamGroup(
            g.Entries.Select(e => e.Master).ToList(), options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, g.Decay)).ToList();
        _adamW = optim.AdamW(paramGroups, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon);
        // state_dict lists states group by group, parameter by parameter, in the order given above.
        var states = _adamW.state_dict().State;
        var names = groups.SelectMany(g => g.Entries).Select(e => e.Name).ToList();
        for (int i = 0; i < names.Count; i++) _states.Add((names[i], (AdamW.State)states[i]));
        DecayedNames = groups.Where(g => g.Decay > 0).SelectMany(g => g.Entries).Select(e => e.Name).ToList();
    }

    /// <summary>Names of the parameters that receive weight decay.</summary>
    public IReadOnlyList<string> DecayedNames { get; }

    /// <summary>Sets the learning rate of every group for the next step.</summary>
    public void SetLearningRate(double learningRate)
    {
        foreach (var group in _adamW.ParamGroups) group.LearningRate = learningRate;
    }

    /// <summary>One AdamW update of every master that has a gradient.</summary>
    public void Step() => _adamW.step();

    /// <summary>The moments by "&lt;parameter&gt;.exp_avg" / ".exp_avg_sq" (live tensors) and each parameter's step count.</summary>
    public (List<KeyValuePair<string, Tensor>> Moments, Dictionary<string, long> Steps) State()
    {
        var moments = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, state) in _states)
        {
            moments.Add(KeyValuePair.Create($"{name}.exp_avg", state.exp_avg));
            moments.Add(KeyValuePair.Create($"{name}.exp_avg_sq", state.exp_avg_sq));
        }
        return (moments, _states.ToDictionary(s => s.Name, s => s.State.step, StringComparer.Ordinal));
    }

    /// <summary>Restores what <see cref="State"/> returned; every parameter must be present with its shape.</summary>
    /// <exception cref="WeightMismatchException">A moment or step count is missing or has another shape.</exception>
    public void Load(IReadOnlyDictionary<string, Tensor> moments, IReadOnlyDictionary<string, long> steps, string source)
    {
        using var _ = no_grad();
        foreach (var (name, state) in _states)
        {
            if (!steps.TryGetValue(name, out long step))
                throw new WeightMismatchException($"{source}: no optimizer step count for '{name}'");
            foreach (var (suffix, target) in new[] { ("exp_avg", state.exp_avg), ("exp_avg_sq", state.exp_avg_sq) })
            {
                string key = $"{name}.{suffix}";
                if (!moments.TryGetValue(key, out var value))
                    throw new WeightMismatchException($"{source}: optimizer moment '{key}' is missing");
                if (!value.shape.SequenceEqual(target.shape))
                    throw new WeightMismatchException(
                        $"{source}: optimizer moment '{key}' has shape [{string.Join(", ", value.shape)}], expected [{string.Join(", ", target.shape)}]");
                target.copy_(value);
            }
            state.step = step;
        }
    }

    public void Dispose() => _adamW.Dispose();
}
