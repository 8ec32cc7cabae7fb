using PeftSharp.Cli.Generation;
using PeftSharp.Cli.Inspection;
using PeftSharp.Tokenization;

namespace PeftSharp.Tests.Cli;

/// <summary>The pieces behind the commands: streamed decoding with stop texts, path grouping.</summary>
public class CliHelpersTests
{
    static readonly Lazy<PretrainedTokenizer> Tokenizer = new(() => PretrainedTokenizer.FromDirectory(Fixtures.Shared("models", "stories260K-hf")));

    [Fact]
    public void StreamReleasesTextOnlyOnceItCannotBeAStopTextAndStopsBeforeIt()
    {
        var tokenizer = Tokenizer.Value;
        var prompt = tokenizer.Encode("Once").Ids;
        var stream = new CompletionStream(tokenizer, prompt, ["Lily"]);
        var released = new List<string>();
        foreach (int id in tokenizer.Encode("upon a time, there was a girl named Lily who", addSpecialTokens: false).Ids)
        {
            released.Add(stream.Add(id));
            Assert.DoesNotContain("L", string.Concat(released)); // "L" might start "Lily": held back until decided
        }
        released.Add(stream.Flush());
        Assert.Equal(" upon a time, there was a girl named ", string.Concat(released));
        Assert.Equal(" upon a time, there was a girl named ", stream.Completion);
        Assert.NotNull(stream.StopTextAt);
    }

    [Fact]
    public void StreamJoinsByteFallbackPiecesBeforeReleasingThem()
    {
        var tokenizer = Tokenizer.Value;
        var stream = new CompletionStream(tokenizer, [tokenizer.BosTokenId!.Value], []);
        var ids = tokenizer.Encode("東", addSpecialTokens: false).Ids; // three byte pieces
        Assert.True(ids.Count >= 3);
        var pieces = ids.Select(id => stream.Add(id)).ToList();
        Assert.All(pieces.Take(pieces.Count - 1), p => Assert.DoesNotContain("\uFFFD", p));
        Assert.Equal(" 東", string.Concat(pieces) + stream.Flush());
        Assert.Equal(ids.Count, stream.Tokens.Count);
    }

    [Fact]
    public void SpecialTokensCountButAreNotText()
    {
        var tokenizer = Tokenizer.Value;
        var stream = new CompletionStream(tokenizer, [tokenizer.BosTokenId!.Value], []);
        foreach (int id in tokenizer.Encode("Hi", addSpecialTokens: false).Ids) stream.Add(id);
        stream.Add(tokenizer.EosTokenId!.Value);
        Assert.Equal(" Hi", stream.Completion + stream.Flush());
        Assert.Equal(tokenizer.EosTokenId!.Value, stream.Tokens[^1]);
    }

    [Theory]
    [InlineData(new[] { 0, 1, 2, 3, 4 }, "0-4")]
    [InlineData(new[] { 0, 2, 4 }, "0,2,4")]
    [InlineData(new[] { 0, 1, 2, 5, 7, 8 }, "0-2,5,7-8")]
    [InlineData(new[] { 3 }, "3")]
    public void Ranges(int[] numbers, string expected) => Assert.Equal(expected, PathGroups.Ranges(numbers));

    [Fact]
    public void PathsDifferingInBlockNumbersAreGrouped()
    {
        string[] paths = ["model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.q_proj", "model.layers.3.self_attn.q_proj", "model.layers.0.mlp.up_proj", "lm_head"];
        var groups = PathGroups.Group(paths, p => p, _ => "");
        Assert.Equal(["model.layers.0-1,3.self_attn.q_proj", "model.layers.0.mlp.up_proj", "lm_head"], groups.Select(g => g.Path));
        Assert.Equal([3, 1, 1], groups.Select(g => g.Items.Count));
    }
}
