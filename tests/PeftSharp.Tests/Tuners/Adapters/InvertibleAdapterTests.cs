using PeftSharp.Models;
using PeftSharp.Modules;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Adapters;
using PeftSharp.Tuners.Common;
using static PeftSharp.Tests.Tuners.Adapters.AdapterTesting;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners.Adapters;

/// <summary>NICE invertible adapters: exact inverse, identity start, wiring at the embeddings and before LM heads.</summary>
public class InvertibleAdapterTests
{
    static BottleneckConfig Invertible(string init = "bert") => new() { InvAdapter = "nice", InitWeights = init };

    [Theory]
    [InlineData(32)]
    [InlineData(33)]
    public void InverseUndoesTheCouplingToFloatPrecision(long hidden)
    {
        var generator = new Generator(17);
        var block = new NiceCouplingBlock(hidden, Invertible() with { InvAdapterReductionFactor = 1 });
        using var _ = no_grad();
        foreach (var parameter in block.parameters()) parameter.normal_(0, 0.5, generator);
        var x = randn(new[] { 3, 5, hidden }, generator: generator) * 2;
        var y = block.call(x);
        Assert.True(Fixtures.MaxAbsDiff(y, x) > 0.1, "the coupling must move its input for the test to mean anything");
        // Float precision: the round trip subtracts what it added, so the error is rounding relative to the largest value.
        double tolerance = 1e-6 * Math.Max(y.abs().max().item<float>(), x.abs().max().item<float>());
        Assert.True(Fixtures.MaxAbsDiff(block.Inverse(y), x) < tolerance, $"inverse(invertible(x)) differs by {Fixtures.MaxAbsDiff(block.Inverse(y), x)} (tolerance {tolerance})");
        Assert.True(Fixtures.MaxAbsDiff(block.call(block.Inverse(x)), x) < 1e-6 * Math.Max(block.Inverse(x).abs().max().item<float>(), 1));
    }

    [Fact]
    public void CouplingFollowsNice()
    {
        var block = new NiceCouplingBlock(32, Invertible());
        var p = block.named_parameters().ToDictionary(n => n.name, n => (Tensor)n.parameter);
        Assert.Equal(new long[] { 8, 16 }, p["F.0.weight"].shape);
        Assert.Equal(new long[] { 16, 8 }, p["G.2.weight"].shape);
        Tensor Net(string name, Tensor z) =>
            nn.functional.linear(nn.functional.relu(nn.functional.linear(z, p[$"{name}.0.weight"], p[$"{name}.0.bias"])), p[$"{name}.2.weight"], p[$"{name}.2.bias"]);
        var e = randn(2, 3, 32);
        using var _ = no_grad();
        var (e1, e2) = (e.narrow(-1, 0, 16), e.narrow(-1, 16, 16));
        var o1 = e1 + Net("F", e2);
        var o2 = e2 + Net("G", o1);
        Assert.True(Fixtures.MaxAbsDiff(block.call(e), cat(new[] { o1, o2 }, -1)) < 1e-6);
    }

    [Fact]
    public void IdentityInitStartsAsTheIdentity()
    {
        var block = new NiceCouplingBlock(32, Invertible("identity"));
        var x = randn(2, 4, 32);
        using var _ = no_grad();
        Assert.Equal(0, Fixtures.MaxAbsDiff(block.call(x), x));
    }

    public static IEnumerable<object[]> LanguageModels() =>
        TinyModels.Cases().Where(c => (ModelTask)c[1] is ModelTask.CausalLM or ModelTask.MaskedLM);

    [Theory]
    [MemberData(nameof(LanguageModels))]
    public void InverseRunsBeforeTheLanguageModelHead(string modelType, ModelTask task)
    {
        var peft = PeftModel.Create(TinyModels.Create(modelType, task), Invertible());
        var invertible = Handler<InvertibleAdapterLayer>(peft, SiteKind.Embeddings, InvertibleAdapterLayer.HandlerName);
        var inverse = Handler<InverseAdapterHandler>(peft, SiteKind.HeadInput, InvertibleAdapterLayer.HandlerName);
        Assert.Same(invertible, inverse.Owner);
        var block = invertible.Block("default");
        var h = randn(2, 5, 32);
        using (no_grad())
        {
            var embeddings = Sites(peft.Model).Single(s => s.Kind == SiteKind.Embeddings);
            var head = Sites(peft.Model).Single(s => s.Kind == SiteKind.HeadInput);
            Assert.True(Fixtures.MaxAbsDiff(embeddings.call(h, h), block.call(h)) < 1e-6);
            Assert.True(Fixtures.MaxAbsDiff(head.call(h, h), block.Inverse(h)) < 1e-6);
        }
        // Where the head is one module, the logits are that module applied to the inverse of the final hidden states.
        string? headPath = modelType switch { "bert" => "cls", "distilbert" => null, _ => "lm_head" };
        if (headPath is null) return;
        var ids = TinyModels.RandomIds(2, 6);
        using var _ = no_grad();
        var outputs = peft.call(new ModelInputs { InputIds = ids });
        var headModule = (nn.Module<Tensor, Tensor>)ModuleTree.Get(peft.Model, headPath);
        Assert.True(Fixtures.MaxAbsDiff(outputs.Logits!, headModule.call(block.Inverse(outputs.LastHiddenState))) < 1e-5);
    }

    [Fact]
    public void ClassificationHeadsHaveNoInverse()
    {
        var peft = PeftModel.Create(TinyModels.Create("roberta", ModelTask.SequenceClassification), Invertible());
        Assert.DoesNotContain(peft.Model.named_modules(), m => m.module is InverseAdapterHandler);
        Assert.Single(peft.Model.named_modules(), m => m.module is InvertibleAdapterLayer);
    }

    [Fact]
    public void UnloadDetachesTheInverseToo()
    {
        var ids = TinyModels.RandomIds(2, 6);
        var expected = Output(TinyModels.Create("gpt2", ModelTask.CausalLM), ids);
        var peft = PeftModel.Create(TinyModels.Create("gpt2", ModelTask.CausalLM), Invertible());
        Assert.True(Fixtures.MaxAbsDiff(Output(peft, ids), expected) > 1e-4);
        var plain = peft.Unload();
        Assert.DoesNotContain(plain.named_modules(), m => m.module is InverseAdapterHandler or IAdapterModule);
        Assert.All(Sites(plain), s => Assert.Empty(s.HandlerNames));
        Assert.Equal(0, Fixtures.MaxAbsDiff(Output(plain, ids), expected));
    }

    [Fact]
    public void EachRowUsesItsOwnAdaptersInvertibleUnderRouting()
    {
        var peft = PeftModel.Create(TinyModels.Create("llama", ModelTask.CausalLM), Invertible(), "a");
        peft.AddAdapter("b", Invertible());
        peft.AddAdapter("plain", new BottleneckConfig { InitWeights = "bert" });
        var ids = TinyModels.RandomIds(1, 6);
        Tensor Alone(string name)
        {
            peft.SetAdapter(name);
            return Output(peft, ids);
        }
        var (a, b, plain) = (Alone("a"), Alone("b"), Alone("plain"));
        Tensor routed;
        using (peft.RouteRows(new[] { "b", "plain", "a" })) routed = Output(peft, cat(new[] { ids, ids, ids }, 0));
        Assert.True(Fixtures.MaxAbsDiff(routed[0], b[0]) < 1e-5);
        Assert.True(Fixtures.MaxAbsDiff(routed[1], plain[0]) < 1e-5);
        Assert.True(Fixtures.MaxAbsDiff(routed[2], a[0]) < 1e-5);
    }
}
