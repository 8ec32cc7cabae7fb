using PeftSharp.Models;
using PeftSharp.IO;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Training;

/// <summary>
/// The parameters a run trains: those of the model that require grad, each once (tied parameters, listed under two
/// names, are one tensor: the first name wins), with the float32 tensor the optimizer updates. A float32 parameter is
/// its own master; a bfloat16 one (full bf16 fine-tuning) gets a float32 master copy: gradients are copied to it
/// before the step and its value rounded back into the model after.
/// </summary>
internal sealed class TrainableParameters : IDisposable
{
    /// <summary>One trained parameter: its name in the model, the model's tensor, the float32 master, whether it decays.</summary>
    public sealed record Entry(string Name, Parameter Model, Parameter Master, bool Decays)
    {
        public bool HasCopy => !ReferenceEquals(Model, Master);
    }

    TrainableParameters(List<Entry> entries) => Entries = entries;

    public IReadOnlyList<Entry> Entries { get; }

    /// <summary>
    /// Collects the trainable parameters of <paramref name="model"/> and checks their element types against
    /// <paramref name="precision"/> (see <see cref="TrainingPrecision"/>).
    /// </summary>
    /// <exception cref="ArgumentException">Nothing is trainable, or an element type does not fit the precision.</exception>
    public static TrainableParameters Collect(nn.Module<ModelInputs, ModelOutputs> model, TrainingPrecision precision)
    {
        var all = model.named_parameters().ToList();
        var floating = all.Where(p => p.parameter.is_floating_point()).ToList();
        var notFloat32 = floating.Where(p => p.parameter.dtype != ScalarType.Float32).ToList();
        if (precision == TrainingPrecision.Float32 && notFloat32.Count > 0)
            throw new ArgumentException(
                $"Precision is Float32 but parameter '{notFloat32[0].name}' is {notFloat32[0].parameter.dtype}; load the model in float32 or train with Precision = BFloat16",
                nameof(model));
        if (precision == TrainingPrecision.BFloat16 && floating.All(p => p.parameter.dtype != ScalarType.BFloat16))
            throw new ArgumentException(
                "Precision is BFloat16 but no parameter of the model is bfloat16; load the base model with dtype BFloat16 " +
                "(adapters stay float32) or train with Precision = Float32", nameof(model));

        var seen = new HashSet<long>();
        var entries = new List<Entry>();
        foreach (var (name, parameter) in all)
        {
            if (!parameter.requires_grad) continue;
            if (!seen.Add(parameter.numel() > 0 ? NativeTensorMemory.Identity(parameter) : (long)parameter.Handle)) continue;
            var master = parameter.dtype switch
            {
                ScalarType.Float32 => parameter,
                ScalarType.BFloat16 => MasterCopy(parameter),
                _ => throw new ArgumentException(
                    $"trainable parameter '{name}' is {parameter.dtype}; the trainer trains float32 parameters (and bfloat16 ones through float32 master copies)",
                    nameof(model)),
            };
            entries.Add(new Entry(name, parameter, master, Decays(name, parameter.shape)));
        }
        if (entries.Count == 0)
            throw new ArgumentException("the model has no parameter that requires grad (attach an adapter, or mark parameters trainable)", nameof(model));
        return new TrainableParameters(entries);
    }

    /// <summary>
    /// Whether weight decay applies: not to vectors (biases, LayerNorm/RMSNorm weights, DoRA's magnitude: one dimension)
    /// nor to anything named as a bias, a norm or IA3's scaling vector ("ia3_l", stored [1, in] or [out, 1]).
    /// </summary>
    public static bool Decays(string name, long[] shape)
    {
        if (shape.Length <= 1) return false;
        var parts = name.Split('.');
        return !parts.Any(p => p is "bias" or "ia3_l" or "lora_magnitude_vector" || p.Contains("norm", StringComparison.OrdinalIgnoreCase) || p.StartsWith("ln_", StringComparison.Ordinal));
    }

    static Parameter MasterCopy(Parameter parameter)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var master = new Parameter(parameter.detach().to(ScalarType.Float32, copy: true), requires_grad: true);
        master.DetachFromDisposeScope();
        return master;
    }

    /// <summary>Moves the gradients of bf16 parameters into their float32 masters.</summary>
    public void GradientsToMasters()
    {
        foreach (var entry in Entries.Where(e => e.HasCopy))
        {
            using var grad = entry.Model.grad;
            entry.Master.grad = grad?.to(ScalarType.Float32);
            entry.Model.grad = null;
        }
    }

    /// <summary>Global L2 norm of the master gradients (as torch.nn.utils.clip_grad_norm_ computes it); 0 when none has one.</summary>
    public double GradientNorm()
    {
        using var scope = NewDisposeScope();
        var norms = Gradients().Select(g => linalg.vector_norm(g)).ToList();
        return norms.Count == 0 ? 0.0 : linalg.vector_norm(stack(norms)).to(ScalarType.Float64).item<double>();
    }

    /// <summary>Scales every gradient by max / (norm + 1e-6) when <paramref name="norm"/> exceeds <paramref name="maxNorm"/>.</summary>
    public void ClipGradients(double norm, double maxNorm)
    {
        if (maxNorm <= 0 || norm <= maxNorm) return;
        using var scope = NewDisposeScope();
        double factor = maxNorm / (norm + 1e-6);
        foreach (var grad in Gradients()) grad.mul_(factor);
    }

    IEnumerable<Tensor> Gradients()
    {
        foreach (var entry in Entries)
            if (entry.Master.grad is { } grad) yield return grad;
    }

    /// <summary>Rounds the masters of bf16 parameters back into the model.</summary>
    public void MastersToModel()
    {
        using var _ = no_grad();
        foreach (var entry in Entries.Where(e => e.HasCopy)) entry.Model.copy_(entry.Master);
    }

    /// <summary>Drops every gradient (set to none, as PyTorch's zero_grad(set_to_none=True)).</summary>
    public void ClearGradients()
    {
        foreach (var entry in Entries)
        {
            entry.Model.grad = null;
            if (entry.HasCopy) entry.Master.grad = null;
        }
    }

    /// <summary>The float32 values by name (the tensors themselves, not copies).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> Values() => Entries.Select(e => KeyValuePair.Create(e.Name, (Tensor)e.Master));

    /// <summary>Copies of the float32 values by name, outside any dispose scope.</summary>
    public Dictionary<string, Tensor> Snapshot()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return Entries.ToDictionary(e => e.Name, e => e.Master.detach().clone().DetachFromDisposeScope(), StringComparer.Ordinal);
    }

    /// <summary>Sets every trained parameter from <paramref name="values"/> (by name); names and shapes must match exactly.</summary>
    /// <exception cref="WeightMismatchException">A name is missing or extra, or a shape differs.</exception>
    public void Load(IReadOnlyDictionary<string, Tensor> values, string source)
    {
        var missing = Entries.Select(e => e.Name).Where(n => !values.ContainsKey(n)).ToList();
        var extra = values.Keys.Where(k => Entries.All(e => e.Name != k)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new WeightMismatchException(
                $"{source} does not hold this model's trainable parameters: " +
                $"{(missing.Count > 0 ? $"missing {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", ..." : "")}" : "")}" +
                $"{(missing.Count > 0 && extra.Count > 0 ? "; " : "")}" +
                $"{(extra.Count > 0 ? $"unexpected {string.Join(", ", extra.Take(5))}{(extra.Count > 5 ? ", ..." : "")}" : "")}");
        using var _ = no_grad();
        foreach (var entry in Entries)
        {
            var value = values[entry.Name];
            if (!value.shape.SequenceEqual(entry.Master.shape))
                throw new WeightMismatchException(
                    $"{source}: '{entry.Name}' has shape [{string.Join(", ", value.shape)}], the model's is [{string.Join(", ", entry.Master.shape)}]");
            entry.Master.copy_(value);
        }
        MastersToModel();
    }

    public void Dispose()
    {
        foreach (var entry in Entries.Where(e => e.HasCopy)) entry.Master.Dispose();
    }
}
