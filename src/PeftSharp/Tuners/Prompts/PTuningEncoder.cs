using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Prompts;

/// <summary>
/// P-tuning's prompt encoder (PEFT's PromptEncoder, Liu et al. 2021): virtual tokens [P, hidden] = mlp_head(embedding),
/// mlp_head = Linear -> ReLU -> Linear -> ReLU -> Linear; or, with an LSTM, mlp_head(lstm_head(embedding)) with a
/// bidirectional LSTM and mlp_head = Linear(2h, 2h) -> ReLU -> Linear(2h, hidden). Files hold the output.
/// </summary>
public sealed class PTuningEncoder : VirtualTokenEncoder
{
    nn.Module<Tensor, Tensor>? mlp_head;
    LSTM? lstm_head;

    /// <param name="config">A config resolved against the model.</param>
    /// <param name="folded">Build only the table of virtual tokens (a saved adapter's form).</param>
    public PTuningEncoder(PTuningConfig config, bool folded)
        : base(nameof(PTuningEncoder), randn(config.NumVirtualTokens, config.TokenDim!.Value), PromptPlacement.InputEmbeddings)
    {
        if (folded) return;
        int dim = config.TokenDim!.Value, hidden = config.EncoderHiddenSize ?? dim;
        if (config.EncoderReparameterizationType == PromptEncoderReparameterization.Lstm)
        {
            lstm_head = nn.LSTM(dim, hidden, config.EncoderNumLayers, batchFirst: true, dropout: config.EncoderDropout, bidirectional: true);
            register_module("lstm_head", lstm_head);
            mlp_head = nn.Sequential(("0", nn.Linear(2 * hidden, 2 * hidden)), ("1", nn.ReLU()), ("2", nn.Linear(2 * hidden, dim)));
        }
        else
        {
            mlp_head = nn.Sequential(
                ("0", nn.Linear(dim, hidden)), ("1", nn.ReLU()), ("2", nn.Linear(hidden, hidden)), ("3", nn.ReLU()), ("4", nn.Linear(hidden, dim)));
        }
        register_module("mlp_head", mlp_head);
    }

    public override bool HasNetwork => mlp_head is not null;

    protected override string ShapeHint => " (num_virtual_tokens x hidden size)";

    protected override Tensor Reparameterize(Tensor table)
    {
        if (lstm_head is null) return mlp_head!.call(table);
        var (sequence, _, _) = lstm_head.call(table.unsqueeze(0), null);       // [1, P, 2h]
        return mlp_head!.call(sequence.squeeze(0));
    }

    protected override void DropNetwork()
    {
        if (lstm_head is not null)
        {
            register_module("lstm_head", null!);
            lstm_head.Dispose();
            lstm_head = null;
        }
        register_module("mlp_head", null!);
        mlp_head!.Dispose();
        mlp_head = null;
    }
}
