using PeftSharp.Models;
using PeftSharp.Modules;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Adapters;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners.Adapters;

/// <summary>Shared pieces of the adapter tests: outputs, adapters moved off their identity start, sites and handlers.</summary>
internal static class AdapterTesting
{
    /// <summary>Logits (or last hidden states) without gradients.</summary>
    public static Tensor Output(nn.Module<ModelInputs, ModelOutputs> model, Tensor ids)
    {
        using var _ = no_grad();
        var outputs = model.call(new ModelInputs { InputIds = ids });
        return outputs.Logits ?? outputs.LastHiddenState;
    }

    /// <summary>Draws every parameter of adapter <paramref name="name"/> from N(0, 0.2), as if trained.</summary>
    public static void Scramble(PeftModel peft, string name, ulong seed)
    {
        var generator = new Generator(seed);
        using var _ = no_grad();
        foreach (var parameter in peft.AdapterParameters(name)) parameter.normal_(0, 0.2, generator);
    }

    /// <summary>The first handler of type <typeparamref name="T"/> at a site of kind <paramref name="kind"/>.</summary>
    public static T Handler<T>(PeftModel peft, SiteKind kind, string handler) where T : class =>
        Sites(peft.Model).Where(s => s.Kind == kind).Select(s => s.Handler(handler)).OfType<T>().First();

    public static List<AdapterSite> Sites(nn.Module model) => model.named_modules().Select(m => m.module).OfType<AdapterSite>().ToList();

    /// <summary>A few AdamW steps on a fixed random direction of the output (and <paramref name="extraLoss"/>).</summary>
    public static void Train(PeftModel peft, Tensor ids, int steps = 3, Func<Tensor>? extraLoss = null)
    {
        peft.train();
        var optimizer = optim.AdamW(peft.parameters().Where(p => p.requires_grad).ToList(), lr: 0.05);
        Tensor? direction = null;
        for (int i = 0; i < steps; i++)
        {
            optimizer.zero_grad();
            var outputs = peft.call(new ModelInputs { InputIds = ids });
            var target = outputs.Logits ?? outputs.LastHiddenState;
            direction ??= randn(target.shape, generator: new Generator(5));
            var loss = (target * direction).sum();
            if (extraLoss is not null) loss = loss + extraLoss();
            loss.backward();
            optimizer.step();
        }
        peft.eval();
    }

    /// <summary>Copies of every named parameter, to check later which changed.</summary>
    public static Dictionary<string, Tensor> Snapshot(nn.Module model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

    /// <summary>Names of the parameters that differ from <paramref name="before"/>.</summary>
    public static List<string> Changed(nn.Module model, Dictionary<string, Tensor> before) =>
        model.named_parameters().Where(p => before.TryGetValue(p.name, out var old) && !old.equal(p.parameter).all().item<bool>()).Select(p => p.name).ToList();
}
