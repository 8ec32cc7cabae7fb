using PeftSharp.Models;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Lora;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners;

/// <summary>
/// Training through a mixed batch: each adapter's gradients are those of its own rows run alone. Routed LoRA adds its
/// contribution into the base output in place, so this guards the autograd path as well as the values.
/// </summary>
public class MixedBatchGradientTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]   // DoRA is not additive and takes the recompute-and-copy path
    public void EachAdaptersGradientsAreThoseOfItsRowsAlone(bool dora)
    {
        var config = new LoraConfig { R = 4, LoraAlpha = 8, InitLoraWeights = "false", UseDora = dora };
        var peft = PeftModel.Create(TinyModels.Create("llama", ModelTask.CausalLM), config, "a");
        peft.AddAdapter("b", config);
        var adapterParameters = peft.named_parameters().Where(p => p.name.Contains(".a.") || p.name.Contains(".b.")).ToList();
        Assert.NotEmpty(adapterParameters);
        foreach (var (_, p) in adapterParameters) p.requires_grad_(true);
        peft.eval();
        var rows = TinyModels.RandomIds(3, 6);   // rows 0 and 2 to "a", row 1 to "b"

        Dictionary<string, Tensor> Gradients(Action forward)
        {
            foreach (var (_, p) in adapterParameters) p.grad = null;
            forward();
            return adapterParameters.ToDictionary(p => p.name, p => p.parameter.grad is { } g ? g.clone() : zeros_like(p.parameter));
        }
        static void Backward(Tensor logits) => logits.pow(2).mean(new long[] { -1 }).sum().backward();

        var routed = Gradients(() =>
        {
            using (peft.RouteRows(new[] { "a", "b", "a" })) Backward(peft.call(new ModelInputs { InputIds = rows }).Logits!);
        });
        var alone = Gradients(() =>
        {
            peft.SetAdapter("a");
            Backward(peft.call(new ModelInputs { InputIds = rows.index_select(0, tensor(new long[] { 0, 2 })) }).Logits!);
            peft.SetAdapter("b");
            Backward(peft.call(new ModelInputs { InputIds = rows.index_select(0, tensor(new long[] { 1 })) }).Logits!);
        });
        foreach (var (name, gradient) in routed)
        {
            Assert.True(gradient.abs().sum().item<float>() > 0, $"{name}: no gradient reached it");
            double diff = Fixtures.MaxAbsDiff(gradient, alone[name]);
            Assert.True(diff < 1e-5, $"{name}: routed gradient differs from its rows alone by {diff}");
        }
    }
}
