using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Models.DistilBert;

/// <summary>HF DistilBERT FFN: dropout(lin2(act(lin1(x)))), lin1 [hidden_dim, dim], lin2 [dim, hidden_dim].</summary>
public sealed class DistilBertFeedForward : nn.Module<Tensor, Tensor>
{
    nn.Module<Tensor, Tensor> lin1, lin2, dropout;
    readonly Func<Tensor, Tensor> _activation;

    public DistilBertFeedForward(DistilBertConfig config, LayerFactory layers) : base(nameof(DistilBertFeedForward))
    {
        lin1 = layers.Linear(config.HiddenSize, config.FeedForwardSize);
        lin2 = layers.Linear(config.FeedForwardSize, config.HiddenSize);
        dropout = nn.Dropout(config.Dropout);
        _activation = Activations.Get(config.Activation);
        RegisterComponents();
    }

    /// <summary>x [B, T, H] -> [B, T, H].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return dropout.call(lin2.call(_activation(lin1.call(x)))).MoveToOuterDisposeScope();
    }
}
