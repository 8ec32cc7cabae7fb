using PeftSharp.Models;
using PeftSharp.Tuners;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners;

/// <summary>Adapters written by Python PEFT give the logits Python PEFT computed with them (shared/reference).</summary>
public class ReferenceAdapterTests
{
    [Theory]
    [InlineData("llama", "llama-lora")]
    [InlineData("gpt2", "gpt2-lora")]
    [InlineData("gpt2", "gpt2-ia3")]
    [InlineData("bert", "bert-lora")]
    public void AdapterLogitsMatchPeft(string family, string adapter)
    {
        var io = Fixtures.ReadTensors(Fixtures.Shared("reference", "io", $"{family}.safetensors"));
        var model = AutoModel.Load(Fixtures.Shared("reference", family)).Model;
        var peft = PeftModel.Load(model, Fixtures.Shared("reference", adapter));
        peft.eval();
        using var _ = no_grad();
        var outputs = peft.call(new ModelInputs { InputIds = io["input_ids"], AttentionMask = io["attention_mask"] });
        var expected = io[$"{adapter}.logits"];
        var real = io["attention_mask"].to(ScalarType.Bool);
        var logits = outputs.Logits!;
        if (expected.dim() == 3) (logits, expected) = (logits[real], expected[real]);
        double diff = Fixtures.MaxAbsDiff(logits, expected);
        Assert.True(diff < 1e-4, $"max diff {diff}");
        // The adapter really changes the output: the base logits differ from the adapted ones.
        using (peft.DisableAdapters())
        {
            var baseLogits = peft.call(new ModelInputs { InputIds = io["input_ids"], AttentionMask = io["attention_mask"] }).Logits!;
            if (baseLogits.dim() == 3) baseLogits = baseLogits[real];
            Assert.True(Fixtures.MaxAbsDiff(baseLogits, expected) > 1e-3);
        }
    }
}
