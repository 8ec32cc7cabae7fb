using PeftSharp.Models;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.Lora;
using PeftSharp.Tuners.Prompts;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners.Prompts;

/// <summary>Padded batches and mixed batches (rows with different prompts, prefixes or none) compute what each row computes alone.</summary>
public class PromptBatchingTests
{
    const double Tolerance = 1e-5;

    /// <summary>Two rows: six tokens, and four tokens padded to six (left for decoders, right for encoders).</summary>
    static (Tensor Ids, Tensor Mask, Tensor Short) PaddedPair(bool left)
    {
        var ids = TinyModels.RandomIds(2, 6);
        var shortIds = ids[1].narrow(0, 0, 4).unsqueeze(0);
        var pad = zeros(1, 2, ScalarType.Int64);
        var row1 = left ? cat(new[] { pad, shortIds }, 1) : cat(new[] { shortIds, pad }, 1);
        var mask1 = left ? tensor(new long[] { 0, 0, 1, 1, 1, 1 }) : tensor(new long[] { 1, 1, 1, 1, 0, 0 });
        return (cat(new[] { ids.narrow(0, 0, 1), row1 }, 0), stack(new[] { ones(6, ScalarType.Int64), mask1 }, 0), shortIds);
    }

    [Theory]
    [MemberData(nameof(PromptTestKit.MethodsOnDecoders), MemberType = typeof(PromptTestKit))]
    public void LeftPaddedDecoderRowsEqualRowsAlone(string method, string modelType)
    {
        var peft = PromptTestKit.Create(method, modelType);
        var (ids, mask, shortIds) = PaddedPair(left: true);
        var batch = PromptTestKit.Output(peft, ids, mask);
        Assert.Equal(new long[] { 2, 6 }, batch.shape.Take(2).ToArray());
        Assert.True(Fixtures.MaxAbsDiff(batch[0], PromptTestKit.Output(peft, ids.narrow(0, 0, 1))[0]) < Tolerance, "full row");
        var alone = PromptTestKit.Output(peft, shortIds)[0];
        double diff = Fixtures.MaxAbsDiff(batch[1].narrow(0, 2, 4), alone);
        Assert.True(diff < Tolerance, $"{method} on {modelType}: padded row differs by {diff}");
    }

    [Theory]
    [MemberData(nameof(PromptTestKit.MethodsOnEncoders), MemberType = typeof(PromptTestKit))]
    public void RightPaddedEncoderRowsEqualRowsAlone(string method, string modelType)
    {
        foreach (var task in new[] { ModelTask.SequenceClassification, ModelTask.TokenClassification })
        {
            var peft = PromptTestKit.Create(method, modelType, task);
            var (ids, mask, shortIds) = PaddedPair(left: false);
            var batch = PromptTestKit.Output(peft, ids, mask);
            var alone = PromptTestKit.Output(peft, shortIds)[0];
            var padded = task == ModelTask.TokenClassification ? batch[1].narrow(0, 0, 4) : batch[1];
            double diff = Fixtures.MaxAbsDiff(padded, alone);
            Assert.True(diff < Tolerance, $"{method} on {modelType} {task}: padded row differs by {diff}");
        }
    }

    [Theory]
    [MemberData(nameof(PromptTestKit.MethodsOnAll), MemberType = typeof(PromptTestKit))]
    public void MixedBatchWithDifferentLengthsEqualsEachAdapterAlone(string method, string modelType)
    {
        var peft = PromptTestKit.Create(method, modelType, tokens: 2);
        peft.AddAdapter("long", PromptTestKit.Config(method, tokens: 5));
        peft.SetAdapter("long");
        PromptTestKit.Train(peft, TinyModels.RandomIds(2, 6, seed: 4));
        AssertRowsEqualAlone(peft, new[] { "long", AdapterRouting.BaseModel, "default", "long" });
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("bert")]
    public void MixedBatchAcrossMethodsEqualsEachAdapterAlone(string modelType)
    {
        // Virtual tokens and key/value prefixes in one batch: every kind in its own rows, each padded to the others.
        var peft = PromptTestKit.Create("prompt-tuning", modelType, tokens: 3);
        peft.AddAdapter("deep", PromptTestKit.Config("prefix-projection", tokens: 5));
        peft.AddAdapter("encoded", PromptTestKit.Config("p-tuning-lstm", tokens: 2));
        foreach (string name in new[] { "deep", "encoded" })
        {
            peft.SetAdapter(name);
            PromptTestKit.Train(peft, TinyModels.RandomIds(2, 6, seed: 4));
        }
        AssertRowsEqualAlone(peft, new[] { "deep", "default", AdapterRouting.BaseModel, "encoded", "deep" });
    }

    [Fact]
    public void MixedBatchKeepsEachRowsPaddingToo()
    {
        var peft = PromptTestKit.Create("prompt-tuning", "gpt2", tokens: 2);
        peft.AddAdapter("deep", PromptTestKit.Config("prefix", tokens: 4));
        var (ids, mask, shortIds) = PaddedPair(left: true);
        var mixed = PromptTestKit.Routed(peft, new[] { "default", "deep" }, ids, mask);
        Assert.True(Fixtures.MaxAbsDiff(mixed[0], PromptTestKit.Alone(peft, "default", ids.narrow(0, 0, 1))[0]) < Tolerance);
        Assert.True(Fixtures.MaxAbsDiff(mixed[1].narrow(0, 2, 4), PromptTestKit.Alone(peft, "deep", shortIds)[0]) < Tolerance);
    }

    [Fact]
    public void RoutingRowsToAnotherMethodsAdaptersLeavesThemToThatMethod()
    {
        manual_seed(3);
        var peft = PeftModel.Create(TinyModels.Create("gpt2", ModelTask.CausalLM), new LoraConfig { R = 2, InitLoraWeights = "false" }, "lora");
        peft.AddAdapter("soft", PromptTestKit.Config("prompt-tuning"));
        AssertRowsEqualAlone(peft, new[] { "soft", "lora", AdapterRouting.BaseModel });
    }

    [Theory]
    [InlineData("prompt-tuning", "gpt2")]
    [InlineData("prefix", "llama")]
    [InlineData("p-tuning-mlp", "bert")]
    [InlineData("prefix", "roberta")]
    [InlineData("p-tuning-lstm", "roberta")]
    public void CallerPositionIdsAndTokenTypesMoveWithTheVirtualTokens(string method, string modelType)
    {
        // Given explicitly as the defaults would be, positions and (BERT's zero) token types change nothing.
        var peft = PromptTestKit.Create(method, modelType);
        var ids = TinyModels.RandomIds(2, 6);
        var expected = PromptTestKit.Output(peft, ids);
        var positions = arange(6, dtype: ScalarType.Int64).unsqueeze(0).expand(2, -1);
        if (modelType == "roberta") positions = positions + 2;                                  // padding_idx + 1
        using var _ = no_grad();
        var types = modelType is "bert" or "roberta" ? zeros(2, 6, ScalarType.Int64) : null;
        var outputs = peft.call(new ModelInputs { InputIds = ids, PositionIds = positions, TokenTypeIds = types });
        Assert.True(Fixtures.MaxAbsDiff(outputs.Logits ?? outputs.LastHiddenState, expected) < 1e-6);
    }

    static void AssertRowsEqualAlone(PeftModel peft, string[] rows)
    {
        var ids = TinyModels.RandomIds(1, 6);
        var expected = rows.Distinct().ToDictionary(r => r, r => PromptTestKit.Alone(peft, r, ids)[0]);
        Assert.True(Fixtures.MaxAbsDiff(expected[rows[0]], expected[AdapterRouting.BaseModel]) > 1e-4, "adapters must change the output for this test to mean anything");
        var mixed = PromptTestKit.Routed(peft, rows, ids.expand(rows.Length, -1).contiguous());
        for (int row = 0; row < rows.Length; row++)
        {
            double diff = Fixtures.MaxAbsDiff(mixed[row], expected[rows[row]]);
            Assert.True(diff < Tolerance, $"row {row} ({rows[row]}) differs from its adapter alone by {diff}");
        }
    }
}
