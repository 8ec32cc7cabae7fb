using static TorchSharp.torch;

namespace PeftSharp.Modules;

/// <summary>Where in a model an <see cref="AdapterSite"/> sits.</summary>
public enum SiteKind
{
    /// <summary>A block's attention sublayer output, before the residual add (and, in post-LN models, its LayerNorm).</summary>
    AttentionOutput,

    /// <summary>A block's feed-forward sublayer output, before the residual add (and LayerNorm).</summary>
    FeedForwardOutput,

    /// <summary>The embedding layer's output, before the first block.</summary>
    Embeddings,

    /// <summary>The final hidden states, just before a language-model head projects them to the vocabulary.</summary>
    HeadInput,
}

/// <summary>
/// A named point in a model's forward pass where methods rewrite hidden states without the model knowing of them:
/// bottleneck adapters after sublayers, invertible adapters at the embeddings and before the head. Every model
/// family places these sites; with nothing attached a site returns its input unchanged and holds no parameters.
/// A handler receives (output, input): the sublayer's output [B, T, H] and the input that sublayer consumed
/// [B, T, H] (the same tensor at Embeddings and HeadInput), and returns the new output.
/// </summary>
public sealed class AdapterSite : nn.Module<Tensor, Tensor, Tensor>
{
    readonly List<(string Name, nn.Module<Tensor, Tensor, Tensor> Handler)> _handlers = new();

    public AdapterSite(SiteKind kind, int? layerIndex = null) : base(nameof(AdapterSite))
    {
        Kind = kind;
        LayerIndex = layerIndex;
    }

    /// <summary>Children are registered explicitly under Hugging Face's names; no field reflection.</summary>
    protected override void RegisterComponents() { }

    public SiteKind Kind { get; }

    /// <summary>Index of the block this site belongs to; null for model-level sites.</summary>
    public int? LayerIndex { get; }

    /// <summary>Names of the attached handlers, in the order they run.</summary>
    public IReadOnlyList<string> HandlerNames => _handlers.Select(h => h.Name).ToList();

    /// <summary>Attaches a handler under <paramref name="name"/> (its parameters appear as "&lt;site path&gt;.&lt;name&gt;.*").</summary>
    public void Attach(string name, nn.Module<Tensor, Tensor, Tensor> handler)
    {
        if (_handlers.Any(h => h.Name == name)) throw new ArgumentException($"a handler named '{name}' is already attached", nameof(name));
        register_module(name, handler);
        _handlers.Add((name, handler));
    }

    /// <summary>The handler attached under <paramref name="name"/>, or null.</summary>
    public nn.Module<Tensor, Tensor, Tensor>? Handler(string name) => _handlers.FirstOrDefault(h => h.Name == name).Handler;

    /// <summary>Detaches and returns the handler attached under <paramref name="name"/>, or null.</summary>
    public nn.Module<Tensor, Tensor, Tensor>? Detach(string name)
    {
        int index = _handlers.FindIndex(h => h.Name == name);
        if (index < 0) return null;
        var handler = _handlers[index].Handler;
        _handlers.RemoveAt(index);
        register_module(name, null!);
        return handler;
    }

    public override Tensor forward(Tensor output, Tensor input)
    {
        foreach (var (_, handler) in _handlers) output = handler.call(output, input);
        return output;
    }
}
