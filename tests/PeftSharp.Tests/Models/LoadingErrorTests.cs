using System.Text.Json.Nodes;
using PeftSharp.IO;
using PeftSharp.Models;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Models;

/// <summary>Strict loading: what does not fit fails with a message that lists the tensors or names the field.</summary>
public class LoadingErrorTests
{
    static void RewriteWeights(string directory, Func<Dictionary<string, Tensor>, Dictionary<string, Tensor>> change)
    {
        string path = Path.Combine(directory, "model.safetensors");
        var tensors = Fixtures.ReadTensors(path);
        SafetensorsWriter.Save(path, change(tensors));
    }

    [Fact]
    public void MissingTensorsAreListed()
    {
        using var dir = Fixtures.TempDir();
        TinyModels.WriteCheckpoint("llama", ModelTask.CausalLM, dir.Path);
        RewriteWeights(dir.Path, t => t.Where(p => !p.Key.Contains("layers.1.mlp.up_proj")).ToDictionary(p => p.Key, p => p.Value));
        var error = Assert.Throws<WeightMismatchException>(() => AutoModel.Load(dir.Path));
        Assert.Contains("missing 1 tensor(s): model.layers.1.mlp.up_proj.weight", error.Message);
        var lenient = AutoModel.Load(dir.Path, new ModelLoadOptions { Strict = false });
        Assert.Single(lenient.Report.Warnings);
    }

    [Fact]
    public void UnexpectedTensorsAreListed()
    {
        using var dir = Fixtures.TempDir();
        TinyModels.WriteCheckpoint("llama", ModelTask.CausalLM, dir.Path);
        RewriteWeights(dir.Path, t => { t["model.layers.0.self_attn.extra.weight"] = ones(2); return t; });
        var error = Assert.Throws<WeightMismatchException>(() => AutoModel.Load(dir.Path));
        Assert.Contains("unexpected 1 tensor(s): model.layers.0.self_attn.extra.weight", error.Message);
    }

    [Fact]
    public void ConfigThatDisagreesWithTensorShapesNamesBothShapes()
    {
        using var dir = Fixtures.TempDir();
        TinyModels.WriteCheckpoint("llama", ModelTask.CausalLM, dir.Path);
        var config = JsonNode.Parse(File.ReadAllText(dir.File("config.json")))!.AsObject();
        config["intermediate_size"] = 80;
        File.WriteAllText(dir.File("config.json"), config.ToJsonString());
        var error = Assert.Throws<WeightMismatchException>(() => AutoModel.Load(dir.Path));
        Assert.Contains("model.layers.0.mlp.up_proj.weight: checkpoint [64, 32], model expects [80, 32]", error.Message);
    }

    [Fact]
    public void ConfigThatIsNotJson()
    {
        using var dir = Fixtures.TempDir();
        File.WriteAllText(dir.File("config.json"), "{ \"model_type\": \"llama\", ");
        var error = Assert.Throws<ConfigException>(() => AutoModel.Load(dir.Path));
        Assert.Contains("not valid JSON", error.Message);
        Assert.Contains("config.json", error.Message);
    }

    [Fact]
    public void UnknownModelTypeListsTheSupportedOnes()
    {
        using var dir = Fixtures.TempDir();
        File.WriteAllText(dir.File("config.json"), """{"model_type": "t5"}""");
        var error = Assert.Throws<ConfigException>(() => AutoModel.Load(dir.Path));
        Assert.Equal("model_type", error.Field);
        Assert.Contains("unsupported model_type 't5'", error.Message);
        foreach (string type in ModelFamilies.ModelTypes) Assert.Contains(type, error.Message);
    }

    [Theory]
    [InlineData("num_key_value_heads", "3", "must divide num_attention_heads")]
    [InlineData("hidden_size", "\"big\"", "must be an integer")]
    [InlineData("hidden_act", "\"swoosh\"", "unknown activation 'swoosh'")]
    [InlineData("num_hidden_layers", "0", "must be positive")]
    public void InvalidConfigFieldIsNamed(string field, string value, string message)
    {
        using var dir = Fixtures.TempDir();
        TinyModels.WriteCheckpoint("llama", ModelTask.CausalLM, dir.Path);
        var config = JsonNode.Parse(File.ReadAllText(dir.File("config.json")))!.AsObject();
        config[field] = JsonNode.Parse(value);
        File.WriteAllText(dir.File("config.json"), config.ToJsonString());
        var error = Assert.Throws<ConfigException>(() => AutoModel.Load(dir.Path));
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void DirectoryWithoutWeights()
    {
        using var dir = Fixtures.TempDir();
        File.WriteAllText(dir.File("config.json"), TinyModels.Configs["llama"]);
        var error = Assert.Throws<CheckpointFormatException>(() => AutoModel.Load(dir.Path));
        Assert.Contains("model.safetensors", error.Message);
    }

    [Fact]
    public void NewClassificationHeadIsReportedAndInitialised()
    {
        using var dir = Fixtures.TempDir();
        TinyModels.WriteCheckpoint("llama", ModelTask.CausalLM, dir.Path);
        var loaded = AutoModel.Load(dir.Path, new ModelLoadOptions { Task = ModelTask.SequenceClassification, Labels = new[] { "a", "b" }, Seed = 1 });
        Assert.Equal(new[] { "score.weight" }, loaded.Report.NewlyInitialized);
        Assert.Equal(new[] { "lm_head.weight" }, loaded.Report.Dropped);
        var score = loaded.Model.state_dict()["score.weight"];
        Assert.Equal(new long[] { 2, 32 }, score.shape);
        Assert.InRange(score.std().item<float>(), 0.005, 0.05);
    }

    [Fact]
    public void TiedCheckpointOmitsTheHeadAndSharesTheEmbedding()
    {
        using var dir = Fixtures.TempDir();
        TinyModels.WriteCheckpoint("qwen2", ModelTask.CausalLM, dir.Path);
        using (var file = SafetensorsFile.Open(dir.File("model.safetensors")))
            Assert.DoesNotContain("lm_head.weight", file.Names);
        var model = AutoModel.Load(dir.Path).Model;
        var state = model.state_dict();
        using (no_grad()) state["model.embed_tokens.weight"][5].fill_(0.25);
        Assert.Equal(0.25f, state["lm_head.weight"][5, 3].item<float>());
    }
}
