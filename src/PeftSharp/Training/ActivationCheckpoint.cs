using PeftSharp.Modules;
using PeftSharp.Tuners.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Training;

/// <summary>
/// Activation (gradient) checkpointing for transformer blocks (Chen et al. 2016, "Training Deep Nets with Sublinear
/// Memory Cost"). A checkpointed block runs without building a graph and keeps only its input; backward recomputes it
/// with gradients on and back-propagates through the recomputation. Memory for activations drops from one set per
/// block to one block's worth, for about one extra forward pass. TorchSharp has no torch.utils.checkpoint; this is
/// the reentrant variant, written as a custom autograd function.
/// </summary>
public static class ActivationCheckpoint
{
    /// <summary>
    /// Runs <paramref name="block"/> on hidden [B, T, H], checkpointed when <see cref="AttentionContext.CheckpointBlocks"/>
    /// is set, the block is in training mode and gradients are being recorded; otherwise a plain call.
    /// </summary>
    /// <exception cref="InvalidOperationException">Checkpointing with a KV cache in the inputs.</exception>
    public static Tensor Call(nn.Module<Tensor, AttentionContext, Tensor> block, Tensor hidden, AttentionContext context)
    {
        if (!context.CheckpointBlocks || !block.training || !is_grad_enabled()) return block.call(hidden, context);
        if (context.Cache is not null)
            throw new InvalidOperationException(
                "gradient checkpointing cannot run with a KV cache in the inputs (prefix tuning or incremental decoding): " +
                "each layer appends to the cache during forward, and recomputing the block in backward would append twice; " +
                "turn GradientCheckpointing off for this model");
        var trainable = block.parameters().Where(p => p.requires_grad).Cast<Tensor>();
        // The block's trainable parameters are inputs of the function only so that the node is part of the graph even
        // when the hidden state needs no gradient (a frozen embedding below LoRA layers); their gradients accumulate
        // through the recomputation's own backward pass.
        var arguments = new object?[] { block, context, AdapterRouting.Current, hidden }.Concat(trainable).ToArray();
        return CheckpointFunction.apply(arguments!);
    }

    /// <summary>The autograd function: forward without a graph, backward by recomputation.</summary>
    sealed class CheckpointFunction : autograd.SingleTensorFunction<CheckpointFunction>
    {
        public override string Name => "ActivationCheckpoint";

        // vars: block, context, row routing (or null), hidden [B, T, H], trainable parameters of the block.
        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var block = (nn.Module<Tensor, AttentionContext, Tensor>)vars[0];
            var context = (AttentionContext)vars[1];
            var hidden = (Tensor)vars[3];
            ctx.save_data("block", block);
            ctx.save_data("routing", vars[2]);
            ctx.save_data("arguments", vars.Length);
            ctx.save_data("input_requires_grad", hidden.requires_grad);
            ctx.save_data("rng", RandomState.Capture());
            // Saved as autograd variables (not managed references): they live exactly as long as the graph, whatever
            // dispose scopes the model's forward closes meanwhile.
            var rotary = context.Rotary;
            ctx.save_for_backward(new List<Tensor> { hidden, context.Mask, context.PositionIds, rotary?.Cos!, rotary?.Sin! });
            return block.call(hidden, context);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            var block = (nn.Module<Tensor, AttentionContext, Tensor>)ctx.get_data("block");
            var routing = (IReadOnlyList<string>?)ctx.get_data("routing");
            int arguments = (int)ctx.get_data("arguments");
            bool inputRequiresGrad = (bool)ctx.get_data("input_requires_grad");
            var gradients = new List<Tensor>(new Tensor[arguments]);

            using (var scope = NewDisposeScope())
            {
                var saved = ctx.get_saved_variables();
                var context = new AttentionContext
                {
                    Mask = saved[1],
                    PositionIds = saved[2],
                    Rotary = saved[3] is { } cos && saved[4] is { } sin ? (cos, sin) : null,
                };
                // Dropout must draw the masks of the forward pass; the stream then continues where it was.
                var now = RandomState.Capture();
                RandomState.Restore((byte[])ctx.get_data("rng"));
                Tensor input, output;
                try
                {
                    using var _ = enable_grad();
                    using var route = routing is null ? null : AdapterRouting.PerRow(routing);
                    input = saved[0].detach().requires_grad_(inputRequiresGrad);
                    output = block.call(input, context);
                }
                finally
                {
                    RandomState.Restore(now);
                }
                if (output.requires_grad) autograd.backward(new[] { output }, new[] { gradOutput });
                if (inputRequiresGrad && input.grad is { } inputGrad) gradients[3] = inputGrad.MoveToOuterDisposeScope();
            }
            return gradients;
        }
    }
}
