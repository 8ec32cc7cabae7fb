namespace PeftSharp.Tests.Cli;

/// <summary><c>peft generate</c> end to end on the real stories260K model, from its GGUF file and its Hugging Face directory.</summary>
public class GenerateCommandTests
{
    /// <summary>llama2.c's published greedy output of stories260K from BOS alone (a newline follows it).</summary>
    const string PublishedStory =
        " Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.";

    public static TheoryData<string> Models => new()
    {
        Fixtures.Shared("models", "stories260K", "stories260K.gguf"),
        Fixtures.Shared("models", "stories260K-hf"),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void GreedyFromAnEmptyPromptGivesThePublishedStory(string model)
    {
        var json = CliRunner.Json("generate", "--model", model, "--prompt", "", "--json");
        Assert.StartsWith(PublishedStory + "\n", (string)json["completion"]!);
        Assert.Equal("", (string)json["prompt"]!);
        Assert.Equal(1, (int)json["prompt_tokens"]!);       // BOS alone
        Assert.Equal(64, (int)json["tokens"]!);             // the default --max-new-tokens
        Assert.Equal(64, json["token_ids"]!.AsArray().Count);
        Assert.Equal("max_new_tokens", (string)json["stop_reason"]!);
        Assert.True((double)json["tokens_per_second"]! > 0);
        Assert.True((double)json["time_to_first_token_ms"]! > 0);
        Assert.True((double)json["elapsed_seconds"]! >= (double)json["time_to_first_token_ms"]! / 1000);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void AStopTextEndsTheCompletionWithoutItself(string model)
    {
        var json = CliRunner.Json("generate", "--model", model, "--prompt", "", "--stop", "\\n", "--json");
        Assert.Equal(PublishedStory, (string)json["completion"]!);
        Assert.Equal("stop_text", (string)json["stop_reason"]!);
        Assert.True((int)json["tokens"]! < 64);
    }

    [Fact]
    public void HumanOutputStreamsTheTextThenTheFigures()
    {
        var result = CliRunner.Run("generate", "--model", Fixtures.Shared("models", "stories260K-hf"), "--prompt", "", "--max-new-tokens", "62");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.Stderr);
        Assert.StartsWith(PublishedStory + "\n", result.Stdout);
        string figures = result.Stdout.TrimEnd('\n').Split('\n')[^1];
        Assert.Matches(@"^62 tokens in [\d.]+ s, [\d.]+ tokens/s, first token after \d+ ms \(stopped: max new tokens\)$", figures);
        Assert.DoesNotContain("\u001b[", result.Stdout);
    }

    [Fact]
    public void APromptIsContinuedAndEchoed()
    {
        string model = Fixtures.Shared("models", "stories260K-hf");
        var json = CliRunner.Json("generate", "-m", model, "-p", "Once upon a time,", "-n", "10", "--json");
        Assert.Equal(" there was a little girl named Lily.", (string)json["completion"]!);
        Assert.Equal(6, (int)json["prompt_tokens"]!); // BOS + ▁Once ▁upon ▁a ▁time ,

        var human = CliRunner.Run("generate", "-m", model, "-p", "Once upon a time,", "-n", "10");
        Assert.StartsWith("Once upon a time, there was a little girl named Lily.\n", human.Stdout);
    }

    [Fact]
    public void SamplingWithASeedIsRepeatable()
    {
        string[] args = ["generate", "-m", Fixtures.Shared("models", "stories260K-hf"), "-p", "Lily", "-n", "16", "--temperature", "0.9", "--top-k", "40", "--top-p", "0.9", "--seed", "11", "--json"];
        var first = CliRunner.Json(args);
        var second = CliRunner.Json(args);
        Assert.Equal((string)first["completion"]!, (string)second["completion"]!);
        Assert.Equal(16, (int)first["tokens"]!);
        Assert.Equal(0.9, (double)first["temperature"]!);
        Assert.Equal(40, (int)first["top_k"]!);
    }
}
