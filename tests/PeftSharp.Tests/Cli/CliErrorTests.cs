using PeftSharp.Models;
using PeftSharp.Tests.Models;

namespace PeftSharp.Tests.Cli;

/// <summary>Every kind of bad input ends with exit code 1 and one line on stderr naming the problem, never a stack trace.</summary>
public class CliErrorTests
{
    static string StoriesHf => Fixtures.Shared("models", "stories260K-hf");

    /// <summary>The arguments each command needs besides --model, to reach model loading.</summary>
    static string[] Rest(string command, string scratch) => command switch
    {
        "generate" => ["--prompt", "hi"],
        "merge" => ["--adapter", Fixtures.Shared("reference", "llama-lora"), "--out", Path.Combine(scratch, "out")],
        _ => [],
    };

    [Theory]
    [InlineData("inspect")]
    [InlineData("generate")]
    [InlineData("merge")]
    public void MissingModel(string command)
    {
        using var scratch = Fixtures.TempDir();
        string missing = scratch.File("no-such-model");
        CliRunner.AssertBadInput(CliRunner.Run([command, "--model", missing, .. Rest(command, scratch.Path)]), missing, "no such model directory or .gguf file");
    }

    [Theory]
    [InlineData("inspect")]
    [InlineData("generate")]
    [InlineData("merge")]
    public void ConfigJsonThatIsNotJson(string command)
    {
        using var scratch = Fixtures.TempDir();
        string model = scratch.File("model");
        TinyModels.WriteCheckpoint("llama", ModelTask.CausalLM, model);
        File.WriteAllText(Path.Combine(model, "config.json"), "{\"model_type\": \"llama\", ");
        CliRunner.AssertBadInput(CliRunner.Run([command, "--model", model, .. Rest(command, scratch.Path)]), "config.json", "not valid JSON");
    }

    [Fact]
    public void UnknownModelType()
    {
        using var scratch = Fixtures.TempDir();
        File.WriteAllText(scratch.File("config.json"), "{\"model_type\": \"mamba\", \"hidden_size\": 8}");
        CliRunner.AssertBadInput(CliRunner.Run("inspect", "--model", scratch.Path), "config.json", "unsupported model_type 'mamba'", "llama");
    }

    [Fact]
    public void TruncatedSafetensors()
    {
        using var scratch = Fixtures.TempDir();
        TinyModels.WriteCheckpoint("gpt2", ModelTask.CausalLM, scratch.Path);
        string weights = scratch.File("model.safetensors");
        using (var file = File.Open(weights, FileMode.Open)) file.SetLength(file.Length / 2);
        CliRunner.AssertBadInput(CliRunner.Run("inspect", "--model", scratch.Path), "model.safetensors");
        CliRunner.AssertBadInput(CliRunner.Run("generate", "--model", scratch.Path, "--prompt", "x"), "model.safetensors");
    }

    [Fact]
    public void TruncatedGguf()
    {
        using var scratch = Fixtures.TempDir();
        string gguf = scratch.File("model.gguf");
        var bytes = File.ReadAllBytes(Fixtures.Shared("models", "stories260K", "stories260K.gguf"));
        File.WriteAllBytes(gguf, bytes[..(bytes.Length / 3)]);
        CliRunner.AssertBadInput(CliRunner.Run("inspect", "--model", gguf), gguf);
    }

    [Theory]
    [InlineData("inspect")]
    [InlineData("generate")]
    [InlineData("merge")]
    public void AdapterForAnotherModelNamesTheModuleAndBothShapes(string command)
    {
        // The reference Llama's LoRA was made for intermediate size 128; stories260K has 172.
        using var scratch = Fixtures.TempDir();
        string[] args = command switch
        {
            "generate" => ["generate", "--prompt", "hi"],
            "merge" => ["merge", "--out", scratch.File("out")],
            _ => ["inspect"],
        };
        var result = CliRunner.Run([.. args, "--model", StoriesHf, "--adapter", Fixtures.Shared("reference", "llama-lora")]);
        CliRunner.AssertBadInput(result, "adapter_model.safetensors", "model.layers.0.mlp.gate_proj", "[128, 4]", "[172, 4]");
        Assert.False(Directory.Exists(scratch.File("out")));
    }

    [Fact]
    public void AdapterForAnotherFamily() =>
        CliRunner.AssertBadInput(
            CliRunner.Run("inspect", "--model", Fixtures.Shared("reference", "gpt2"), "--adapter", Fixtures.Shared("reference", "llama-lora")),
            "target_modules", "q_proj");

    [Fact]
    public void MissingOrMalformedAdapterDirectory()
    {
        using var scratch = Fixtures.TempDir();
        CliRunner.AssertBadInput(CliRunner.Run("inspect", "--model", StoriesHf, "--adapter", scratch.File("none")), "adapter directory not found");
        File.WriteAllText(scratch.File("adapter_config.json"), "[1, 2]");
        File.WriteAllBytes(scratch.File("adapter_model.safetensors"), [8, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}']);
        CliRunner.AssertBadInput(CliRunner.Run("inspect", "--model", StoriesHf, "--adapter", scratch.Path), "adapter_config.json", "must be a JSON object");
    }

    [Fact]
    public void ModelWithoutTokenizerCannotGenerate() =>
        CliRunner.AssertBadInput(CliRunner.Run("generate", "--model", Fixtures.Shared("reference", "llama"), "--prompt", "hi"), "no tokenizer found");

    [Fact]
    public void EncoderCannotGenerate() =>
        CliRunner.AssertBadInput(CliRunner.Run("generate", "--model", Fixtures.Shared("reference", "bert"), "--prompt", "hi"),
            "BertForSequenceClassification is not a causal language model");

    [Theory]
    [InlineData("temperature must be 0 or more, got -1", "generate", "--temperature", "-1")]
    [InlineData("top-p must be in (0, 1], got 2", "generate", "--top-p", "2")]
    [InlineData("top-k must be 0 or more, got -3", "generate", "--top-k", "-3")]
    [InlineData("max new tokens must be 0 or more, got -5", "generate", "--max-new-tokens", "-5")]
    [InlineData("Cannot parse argument 'many'", "generate", "--max-new-tokens", "many")]
    [InlineData("Unrecognized command or argument '--bogus'", "inspect", "--bogus")]
    [InlineData("Unrecognized command or argument '--bogus'", "generate", "--bogus", "1")]
    [InlineData("'float16' not recognized", "merge", "--dtype", "float16")]
    public void BadOptions(string message, string command, params string[] options)
    {
        using var scratch = Fixtures.TempDir();
        string[] args = [command, "--model", StoriesHf, .. Rest(command, scratch.Path), .. options];
        CliRunner.AssertBadInput(CliRunner.Run(args), message);
    }

    [Theory]
    [InlineData("Option '--model' is required", "inspect")]
    [InlineData("Option '--prompt' is required", "generate", "--model", "x")]
    [InlineData("Option '--out' is required", "merge", "--model", "x", "--adapter", "y")]
    [InlineData("Unrecognized command or argument 'frobnicate'", "frobnicate")]
    [InlineData("Required command was not provided")]
    public void Usage(string message, params string[] args) => CliRunner.AssertBadInput(CliRunner.Run(args), message);
}
