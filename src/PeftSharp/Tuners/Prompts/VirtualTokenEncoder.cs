using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Prompts;

/// <summary>
/// One adapter's virtual tokens: a learned table "embedding" [P, d] (PEFT's names), which a reparameterisation network
/// may turn into the prompt [P, width]. <see cref="Fold"/> replaces table and network by their output, the form an
/// adapter file stores ("prompt_embeddings") and inference needs.
/// </summary>
public abstract class VirtualTokenEncoder : nn.Module
{
    Embedding embedding;

    protected VirtualTokenEncoder(string name, Tensor table, PromptPlacement placement) : base(name)
    {
        embedding = TableOf(table);
        Placement = placement;
        register_module("embedding", embedding);
    }

    /// <summary>Children are registered explicitly under PEFT's names; no field reflection.</summary>
    protected override void RegisterComponents() { }

    public PromptPlacement Placement { get; }

    /// <summary>Number of virtual tokens P.</summary>
    public long VirtualTokens => embedding.weight!.shape[0];

    /// <summary>Whether a reparameterisation network is still attached (false once folded, or when there never was one).</summary>
    public abstract bool HasNetwork { get; }

    /// <summary>The learned table [P, d] (the prompt itself once folded).</summary>
    public Parameter Table => embedding.weight!;

    /// <summary>The prompt [P, width] (float32), differentiable with respect to the trainable parameters.</summary>
    public Tensor Prompt() => HasNetwork ? Reparameterize(Table) : Table;

    /// <summary>The prompt as PEFT saves it (get_prompt_embedding_to_save): the output in eval mode, detached.</summary>
    public Tensor SavedPrompt()
    {
        using var _ = no_grad();
        bool training = this.training;
        eval();
        try
        {
            return Prompt().detach().clone();
        }
        finally
        {
            train(training);
        }
    }

    /// <summary>
    /// Replaces the table and the network by the prompt they produce, so inference carries only [P, width]; outputs do
    /// not change. The new table trains if the old one did.
    /// </summary>
    public void Fold()
    {
        if (!HasNetwork) return;
        bool trainable = Table.requires_grad;
        var prompt = SavedPrompt();
        DropNetwork();
        ReplaceTable(prompt, trainable);
    }

    /// <summary>Loads a saved prompt [P, width] (folding first: a file holds the network's output, not its weights).</summary>
    /// <exception cref="ArgumentException">The shape differs (both shapes named).</exception>
    public void LoadPrompt(Tensor saved, string key)
    {
        Fold();
        if (!saved.shape.SequenceEqual(Table.shape))
            throw new ArgumentException($"'{key}': file has [{string.Join(", ", saved.shape)}], this adapter expects [{string.Join(", ", Table.shape)}]{ShapeHint}");
        using var _ = no_grad();
        Table.copy_(saved.to(Table.dtype));
    }

    /// <summary>What the expected shape is made of, appended to shape errors.</summary>
    protected abstract string ShapeHint { get; }

    /// <summary>The network's output for the table [P, d] -> [P, width].</summary>
    protected abstract Tensor Reparameterize(Tensor table);

    /// <summary>Unregisters and disposes the network.</summary>
    protected abstract void DropNetwork();

    void ReplaceTable(Tensor values, bool trainable)
    {
        var old = embedding;
        register_module("embedding", null!);
        embedding = TableOf(values);
        embedding.weight!.requires_grad = trainable;
        register_module("embedding", embedding);
        embedding.train(training);
        old.Dispose();
    }

    static Embedding TableOf(Tensor values)
    {
        var table = nn.Embedding(values.shape[0], values.shape[1], dtype: ScalarType.Float32, device: values.device);
        table.weight = new Parameter(values.detach().to(ScalarType.Float32).clone());
        return table;
    }
}
