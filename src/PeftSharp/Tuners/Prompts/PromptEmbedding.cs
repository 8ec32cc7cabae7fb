using static TorchSharp.torch;

namespace PeftSharp.Tuners.Prompts;

/// <summary>
/// Prompt tuning's encoder (PEFT's PromptEmbedding): the virtual tokens are the learned table [P, hidden] itself,
/// prepended to the input embeddings (Lester et al. 2021).
/// </summary>
public sealed class PromptEmbedding : VirtualTokenEncoder
{
    /// <param name="table">Initial virtual tokens [P, hidden].</param>
    public PromptEmbedding(Tensor table) : base(nameof(PromptEmbedding), table, PromptPlacement.InputEmbeddings) { }

    public override bool HasNetwork => false;

    protected override string ShapeHint => " (num_virtual_tokens x hidden size)";

    protected override Tensor Reparameterize(Tensor table) => table;

    protected override void DropNetwork() { }
}
