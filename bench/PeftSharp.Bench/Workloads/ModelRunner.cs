using PeftSharp.Bench.Harness;
using PeftSharp.Generation;
using PeftSharp.Models;
using static TorchSharp.torch;

namespace PeftSharp.Bench.Workloads;

/// <summary>Inputs and timed calls shared by the model suites (no_grad, eval mode, outputs freed at once).</summary>
public static class ModelRunner
{
    /// <summary>Random token ids [batch, length] in [3, vocab), reproducible.</summary>
    public static Tensor TokenIds(long batch, long length, long vocab, ulong seed = 11) =>
        randint(3, vocab, new[] { batch, length }, ScalarType.Int64, generator: new Generator(seed));

    /// <summary>A fully real (unpadded) batch of <paramref name="batch"/> x <paramref name="length"/> tokens.</summary>
    public static ModelInputs Inputs(long batch, long length, long vocab) => new()
    {
        InputIds = TokenIds(batch, length, vocab),
        AttentionMask = ones(batch, length, ScalarType.Int64),
    };

    /// <summary>Seconds of one forward pass.</summary>
    public static double ForwardSeconds(nn.Module<ModelInputs, ModelOutputs> model, ModelInputs inputs) => Timing.Seconds(() =>
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        _ = model.call(inputs);
    });

    /// <summary>Greedy generation of <paramref name="newTokens"/> tokens with the KV cache: (seconds of the first step
    /// (prompt), seconds per later token).</summary>
    public static (double PromptSeconds, double SecondsPerToken) Decode(TransformerModel model, Tensor promptIds, int newTokens)
    {
        var result = TextGenerator.Generate(model, promptIds, null, new GenerationOptions { MaxNewTokens = newTokens });
        if (result.TokensGenerated != newTokens * promptIds.shape[0])
            throw new InvalidOperationException($"generation stopped after {result.TokensGenerated} of {newTokens} tokens");
        return (result.PromptTime.TotalSeconds, (result.Elapsed - result.PromptTime).TotalSeconds / (newTokens - 1));
    }

    /// <summary>Loads a cached checkpoint as <paramref name="dtype"/>.</summary>
    public static TransformerModel Load(BenchContext context, ModelShape shape, ScalarType dtype)
    {
        string directory = context.Cache.Ensure(shape);
        TransformerModel? model = null;
        double seconds = Timing.Seconds(() => model = AutoModel.Load(directory, new ModelLoadOptions { Task = shape.Task, DType = dtype }).Model);
        context.Log($"loaded {shape.Name} as {MatmulKernel.DTypeName(dtype)} in {seconds:0.0} s");
        return model!;
    }
}
