using static TorchSharp.torch;

namespace PeftSharp.Modules;

/// <summary>The activation functions Hugging Face configs name ("hidden_act", "activation_function").</summary>
public static class Activations
{
    static readonly Dictionary<string, Func<Tensor, Tensor>> ByName = new(StringComparer.Ordinal)
    {
        ["gelu"] = x => nn.functional.gelu(x),
        ["gelu_new"] = GeluTanh,
        ["gelu_pytorch_tanh"] = GeluTanh,
        ["gelu_fast"] = GeluTanh,
        ["relu"] = x => nn.functional.relu(x),
        ["silu"] = x => nn.functional.silu(x),
        ["swish"] = x => nn.functional.silu(x),
        ["tanh"] = x => x.tanh(),
    };

    public static IEnumerable<string> Names => ByName.Keys;

    public static bool IsKnown(string name) => ByName.ContainsKey(name);

    /// <summary>The activation called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static Func<Tensor, Tensor> Get(string name) =>
        ByName.TryGetValue(name, out var activation)
            ? activation
            : throw new ArgumentException($"unknown activation '{name}' (supported: {string.Join(", ", Names)})", nameof(name));

    /// <summary>GPT-2's tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).</summary>
    static Tensor GeluTanh(Tensor x)
    {
        using var scope = NewDisposeScope();
        var inner = Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x.pow(3));
        return (0.5 * x * (1.0 + inner.tanh())).MoveToOuterDisposeScope();
    }
}
