using PeftSharp.Models;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Models;

/// <summary>Logits equal those Hugging Face transformers computed for the same tiny checkpoints (shared/reference).</summary>
public class ReferenceParityTests
{
    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    [InlineData("bert")]
    public void BaseModelLogitsMatchTransformers(string family)
    {
        var io = Fixtures.ReadTensors(Fixtures.Shared("reference", "io", $"{family}.safetensors"));
        var loaded = AutoModel.Load(Fixtures.Shared("reference", family));
        using var _ = no_grad();
        var logits = loaded.Model.Logits(io["input_ids"], io["attention_mask"]);
        var expected = io[$"{family}.logits"];
        Assert.Equal(expected.shape, logits.shape);
        // Per-token logits only at real tokens: outputs at padding positions are not meaningful (and differ by convention).
        // Sequence-level logits [B, labels] are compared whole.
        var real = io["attention_mask"].to(ScalarType.Bool);
        var (actual, wanted) = expected.dim() == 3 ? (logits[real], expected[real]) : (logits, expected);
        double diff = Fixtures.MaxAbsDiff(actual, wanted);
        Assert.True(diff < 1e-4, $"{family}: max diff {diff}");
    }
}
