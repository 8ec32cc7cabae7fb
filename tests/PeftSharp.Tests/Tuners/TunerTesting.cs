using PeftSharp.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Lora;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners;

/// <summary>Forward passes, short training runs and layer lookups shared by the tuner tests.</summary>
public static class TunerTesting
{
    /// <summary>Logits (or the last hidden state of a bare model) without gradients.</summary>
    public static Tensor Output(nn.Module<ModelInputs, ModelOutputs> model, Tensor ids, Tensor? mask = null)
    {
        using var _ = no_grad();
        var outputs = model.call(new ModelInputs { InputIds = ids, AttentionMask = mask });
        return outputs.Logits ?? outputs.LastHiddenState;
    }

    /// <summary>A few AdamW steps of the trainable parameters on a loss along a fixed random direction.</summary>
    public static void Train(PeftModel peft, Tensor ids, int steps = 3, double lr = 0.05)
    {
        peft.train();
        var optimizer = optim.AdamW(peft.parameters().Where(p => p.requires_grad).ToList(), lr: lr);
        Tensor? direction = null;
        for (int i = 0; i < steps; i++)
        {
            optimizer.zero_grad();
            var outputs = peft.call(new ModelInputs { InputIds = ids });
            var target = outputs.Logits ?? outputs.LastHiddenState;
            direction ??= randn(target.shape, generator: new Generator(5));
            (target * direction).sum().backward();
            optimizer.step();
        }
        peft.eval();
    }

    /// <summary>The LoRA layers of a model by path.</summary>
    public static Dictionary<string, LoraLayer> LoraLayers(PeftModel peft) =>
        peft.AdapterModules().Where(m => m.Module is LoraLayer).ToDictionary(m => m.Path, m => (LoraLayer)m.Module);

    /// <summary>One adapter's A [r, in] and B [out, r] in a LoRA layer.</summary>
    public static (Tensor A, Tensor B) Factors(LoraLayer layer, string adapter)
    {
        var state = layer.AdapterState(adapter).ToDictionary(s => s.Key, s => s.Value.detach());
        return (state["lora_A.weight"], state["lora_B.weight"]);
    }
}
