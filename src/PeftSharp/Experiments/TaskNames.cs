using PeftSharp.Models;

namespace PeftSharp.Experiments;

/// <summary>The command-line names of task heads: seq-cls, token-cls, causal-lm, masked-lm.</summary>
public static class TaskNames
{
    static readonly (string Name, ModelTask Task)[] Names =
    [
        ("seq-cls", ModelTask.SequenceClassification), ("token-cls", ModelTask.TokenClassification),
        ("causal-lm", ModelTask.CausalLM), ("masked-lm", ModelTask.MaskedLM),
    ];

    /// <summary>Every name, for help texts.</summary>
    public static IReadOnlyList<string> All => Names.Select(n => n.Name).ToList();

    /// <summary>The head called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Unknown name (the message lists them).</exception>
    public static ModelTask Parse(string name) =>
        Names.FirstOrDefault(n => n.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) is { Name: not null } found
            ? found.Task
            : throw new ArgumentException($"unknown task '{name}' (known: {string.Join(", ", All)})", nameof(name));

    /// <summary>The name of <paramref name="task"/> ("seq-cls").</summary>
    public static string Name(ModelTask task) => Names.FirstOrDefault(n => n.Task == task).Name ?? task.ToString();
}
