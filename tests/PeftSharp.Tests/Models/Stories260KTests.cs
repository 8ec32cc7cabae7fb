using PeftSharp.Generation;
using PeftSharp.Models;
using PeftSharp.Tokenization;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Models;

/// <summary>The real pretrained stories260K model (llama2.c, shared/models) behaves as published.</summary>
public class Stories260KTests
{
    /// <summary>llama2.c's published greedy output of stories260K from the BOS token.</summary>
    const string Published = " Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.";

    static readonly string HfDirectory = Fixtures.Shared("models", "stories260K-hf");
    static readonly string GgufFile = Fixtures.Shared("models", "stories260K", "stories260K.gguf");

    static PretrainedTokenizer Tokenizer() => PretrainedTokenizer.FromDirectory(HfDirectory);

    static string GreedyFromBos(TransformerModel model, PretrainedTokenizer tokenizer)
    {
        var bos = tensor(new long[] { tokenizer.BosTokenId!.Value }).unsqueeze(0);
        var result = TextGenerator.Generate(model, bos, null, new GenerationOptions { MaxNewTokens = 64 });
        return tokenizer.Decode(result.NewTokens[0]);
    }

    [Fact]
    public void GreedyGenerationFromHuggingFaceLayoutReproducesThePublishedText()
    {
        var model = AutoModel.Load(HfDirectory).Model;
        string text = GreedyFromBos(model, Tokenizer());
        Assert.StartsWith(Published + "\nLily", " " + text.TrimStart(' '));
    }

    [Fact]
    public void GreedyGenerationFromGgufReproducesThePublishedText()
    {
        var model = GgufModelLoader.Load(GgufFile).Model;
        string text = GreedyFromBos(model, Tokenizer());
        Assert.StartsWith(Published + "\nLily", " " + text.TrimStart(' '));
    }

    [Fact]
    public void LossOnThePublishedTextIsFarBelowLossOnTheSameTokensShuffled()
    {
        var model = AutoModel.Load(HfDirectory).Model;
        var tokenizer = Tokenizer();
        var ids = tokenizer.Encode(Published.TrimStart()).Ids.Select(i => (long)i).ToArray();
        double Loss(long[] sequence)
        {
            using var _ = no_grad();
            var input = tensor(sequence).unsqueeze(0);
            var logits = model.Logits(input)[0];                                     // [T, V]
            var predicted = logits.narrow(0, 0, sequence.Length - 1);
            var targets = input[0].narrow(0, 1, sequence.Length - 1);
            return nn.functional.cross_entropy(predicted, targets).item<float>();
        }
        var shuffled = ids.Take(1).Concat(ids.Skip(1).OrderBy(i => new Random((int)i * 7919).Next())).ToArray();
        double real = Loss(ids), scrambled = Loss(shuffled);
        Assert.True(real < 1.5, $"loss on real text {real}");
        Assert.True(scrambled > real + 3, $"shuffled {scrambled} vs real {real}");
    }

    [Fact]
    public void GgufModelSavedInHuggingFaceLayoutLoadsBackWithTheSameOutputs()
    {
        var fromGguf = GgufModelLoader.Load(GgufFile).Model;
        using var dir = Fixtures.TempDir();
        ModelSaver.Save(fromGguf, dir.Path);
        var reloaded = AutoModel.Load(dir.Path).Model;
        var ids = tensor(new long[] { 1, 403, 407, 261, 378, 1028 % 512, 270 }).unsqueeze(0);
        using var _ = no_grad();
        Assert.True(fromGguf.Logits(ids).equal(reloaded.Logits(ids)).all().item<bool>());
        Assert.True(Fixtures.MaxAbsDiff(reloaded.Logits(ids), AutoModel.Load(HfDirectory).Model.Logits(ids)) < 1e-4);
    }
}
