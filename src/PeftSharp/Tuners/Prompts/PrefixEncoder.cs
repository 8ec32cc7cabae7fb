using static TorchSharp.torch;

namespace PeftSharp.Tuners.Prompts;

/// <summary>
/// Prefix tuning's encoder (PEFT's PrefixEncoder): per virtual token, the keys and values of every layer, [P, layers x 2
/// x token_dim], either learned directly or, with prefix_projection, as transform(embedding) with transform = Linear ->
/// tanh -> Linear (Li and Liang 2021's reparameterisation, which stabilises training; fold it away afterwards).
/// </summary>
public sealed class PrefixEncoder : VirtualTokenEncoder
{
    nn.Module<Tensor, Tensor>? transform;

    /// <param name="config">A config resolved against the model.</param>
    /// <param name="folded">Build only the flat prefix table (a saved adapter's form), whatever prefix_projection says.</param>
    public PrefixEncoder(PrefixTuningConfig config, bool folded)
        : base(nameof(PrefixEncoder), InitialTable(config, folded), PromptPlacement.KeyValuePrefix)
    {
        Layers = config.NumLayers!.Value;
        Heads = config.NumAttentionHeads!.Value;
        HeadDim = config.TokenDim!.Value / Heads;
        if (!config.PrefixProjection || folded) return;
        int dim = config.TokenDim!.Value, hidden = config.EncoderHiddenSize ?? dim;
        var last = nn.Linear(hidden, config.PrefixWidth);
        if (config.InitWeights == "zero")
            using (no_grad())
            {
                last.weight!.zero_();
                last.bias!.zero_();
            }
        transform = nn.Sequential(("0", nn.Linear(dim, hidden)), ("1", nn.Tanh()), ("2", last));
        register_module("transform", transform);
    }

    /// <summary>Transformer layers the prefix covers.</summary>
    public int Layers { get; }

    /// <summary>Key/value heads per layer.</summary>
    public int Heads { get; }

    public int HeadDim { get; }

    public override bool HasNetwork => transform is not null;

    protected override string ShapeHint => $" (num_virtual_tokens x {Layers} layers x 2 x {Heads} key/value heads x {HeadDim})";

    protected override Tensor Reparameterize(Tensor table) => transform!.call(table);

    protected override void DropNetwork()
    {
        register_module("transform", null!);
        transform!.Dispose();
        transform = null;
    }

    /// <summary>
    /// Keys and values of every layer, [layers x 2, heads, P, head_dim], from the prompt [P, layers x 2 x heads x
    /// head_dim] viewed as PEFT's get_prompt does: [P, layers x 2, heads, head_dim], key of layer l at 2l, value at 2l + 1.
    /// </summary>
    public Tensor KeyValues(Tensor prompt) => prompt.view(prompt.shape[0], Layers * 2, Heads, HeadDim).permute(1, 2, 0, 3);

    static Tensor InitialTable(PrefixTuningConfig config, bool folded)
    {
        int virtualTokens = config.NumVirtualTokens;
        if (config.PrefixProjection && !folded) return randn(virtualTokens, config.TokenDim!.Value);
        return config.InitWeights == "zero" ? zeros(virtualTokens, config.PrefixWidth) : randn(virtualTokens, config.PrefixWidth);
    }
}
