using PeftSharp.Generation;
using PeftSharp.Models;
using PeftSharp.Modules;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners.Prompts;

/// <summary>Generation with virtual tokens or prefixes active: the KV cache changes nothing, and batched rows generate as alone.</summary>
public class PromptGenerationTests
{
    static GenerationResult Generate(PeftModel peft, Tensor ids, Tensor? mask, bool cache, int tokens = 6) =>
        TextGenerator.Generate(peft, peft.Model.LayerCount, ids, mask, new GenerationOptions { MaxNewTokens = tokens, UseCache = cache });

    static (Tensor Ids, Tensor Mask) LeftPadded()
    {
        var ids = TinyModels.RandomIds(2, 5, seed: 8);
        ids[1].narrow(0, 0, 2).fill_(0);
        return (ids, tensor(new long[,] { { 1, 1, 1, 1, 1 }, { 0, 0, 1, 1, 1 } }));
    }

    [Theory]
    [MemberData(nameof(PromptTestKit.MethodsOnDecoders), MemberType = typeof(PromptTestKit))]
    public void CachedGenerationEqualsUncached(string method, string modelType)
    {
        var peft = PromptTestKit.Create(method, modelType);
        var (ids, mask) = LeftPadded();
        var cached = Generate(peft, ids, mask, cache: true);
        var uncached = Generate(peft, ids, mask, cache: false);
        Assert.Equal(uncached.NewTokens, cached.NewTokens);
        // Each row of the padded batch generates what it generates alone.
        Assert.Equal(Generate(peft, ids.narrow(0, 0, 1), null, cache: true).NewTokens[0], cached.NewTokens[0]);
        Assert.Equal(Generate(peft, ids[1].narrow(0, 2, 3).unsqueeze(0), null, cache: true).NewTokens[0], cached.NewTokens[1]);
        using (peft.DisableAdapters())
            Assert.NotEqual(Generate(peft, ids, mask, cache: true).NewTokens, cached.NewTokens);
    }

    [Theory]
    [MemberData(nameof(PromptTestKit.MethodsOnDecoders), MemberType = typeof(PromptTestKit))]
    public void CachedStepsGiveTheLogitsOfTheWholeSequence(string method, string modelType)
    {
        // The prompt is added once, at the first step: later steps see it through the cache, in positions and mask.
        var peft = PromptTestKit.Create(method, modelType);
        var ids = TinyModels.RandomIds(2, 7, seed: 8);
        using var _ = no_grad();
        var whole = peft.call(new ModelInputs { InputIds = ids }).Logits!;
        using var cache = new KvCache(peft.Model.LayerCount);
        var first = peft.call(new ModelInputs { InputIds = ids.narrow(1, 0, 5), Cache = cache }).Logits!;
        Assert.True(Fixtures.MaxAbsDiff(first, whole.narrow(1, 0, 5)) < 1e-5);
        long inserted = cache.Length - 5;
        Assert.Equal(4, inserted);
        for (int t = 5; t < 7; t++)
        {
            var mask = ones(2, cache.Length + 1, ScalarType.Int64);
            var step = peft.call(new ModelInputs { InputIds = ids.narrow(1, t, 1), AttentionMask = mask, Cache = cache }).Logits!;
            double diff = Fixtures.MaxAbsDiff(step[.., 0], whole[.., t]);
            Assert.True(diff < 1e-5, $"{method} on {modelType}: step {t} differs by {diff}");
        }
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void MixedBatchGenerationWithTheCacheEqualsEachRowAlone(string modelType)
    {
        var peft = PromptTestKit.Create("prompt-tuning", modelType, tokens: 2);
        peft.AddAdapter("deep", PromptTestKit.Config("prefix", tokens: 5));
        peft.AddAdapter("long", PromptTestKit.Config("p-tuning-mlp", tokens: 6));
        foreach (string name in new[] { "deep", "long" })
        {
            peft.SetAdapter(name);
            PromptTestKit.Train(peft, TinyModels.RandomIds(2, 6, seed: 4));
        }
        var rows = new[] { "deep", "default", AdapterRouting.BaseModel, "long" };
        var ids = TinyModels.RandomIds(4, 5, seed: 8);
        ids[1].narrow(0, 0, 2).fill_(0);
        var mask = ones(4, 5, ScalarType.Int64);
        mask[1].narrow(0, 0, 2).fill_(0);
        GenerationResult cached, uncached;
        using (peft.RouteRows(rows))
        {
            cached = Generate(peft, ids, mask, cache: true);
            uncached = Generate(peft, ids, mask, cache: false);
        }
        Assert.Equal(uncached.NewTokens, cached.NewTokens);
        for (int row = 0; row < rows.Length; row++)
        {
            var own = row == 1 ? ids[1].narrow(0, 2, 3).unsqueeze(0) : ids.narrow(0, row, 1);
            GenerationResult alone;
            if (rows[row] == AdapterRouting.BaseModel)
                using (peft.DisableAdapters()) alone = Generate(peft, own, null, cache: true);
            else
            {
                peft.SetAdapter(rows[row]);
                alone = Generate(peft, own, null, cache: true);
            }
            Assert.Equal(alone.NewTokens[0], cached.NewTokens[row]);
        }
    }
}
