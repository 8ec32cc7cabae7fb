using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.Prompts;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners.Prompts;

/// <summary>Adapter files in PEFT's layout: one tensor "prompt_embeddings" of PEFT's shape, PEFT's config fields, folded reparameterisation.</summary>
public class PromptFileTests
{
    /// <summary>(method, model_type, rows, columns of prompt_embeddings) for 4 virtual tokens on the tiny configs.</summary>
    public static IEnumerable<object[]> SavedShapes() => new[]
    {
        new object[] { "prompt-tuning", "gpt2", 32 }, new object[] { "prompt-tuning", "llama", 32 }, new object[] { "prompt-tuning", "bert", 32 },
        new object[] { "p-tuning-mlp", "gpt2", 32 }, new object[] { "p-tuning-lstm", "distilbert", 32 },
        // Prefixes: num_layers x 2 x token_dim; under grouped-query attention token_dim is kv_heads x head_dim.
        new object[] { "prefix", "gpt2", 2 * 2 * 32 }, new object[] { "prefix", "bert", 2 * 2 * 32 },
        new object[] { "prefix", "llama", 2 * 2 * (2 * 8) }, new object[] { "prefix-projection", "mistral", 2 * 2 * (1 * 8) },
    };

    [Theory]
    [MemberData(nameof(SavedShapes))]
    public void SavedTensorAndConfigArePefts(string method, string modelType, long columns)
    {
        var peft = PromptTestKit.Create(method, modelType, ModelTask.Base);
        using var dir = Fixtures.TempDir();
        peft.SaveAdapter(dir.Path);
        var tensors = Fixtures.ReadTensors(dir.File(AdapterFiles.WeightsFile));
        Assert.Equal(new[] { "prompt_embeddings" }, tensors.Keys.ToArray());
        Assert.Equal(new long[] { 4, columns }, tensors["prompt_embeddings"].shape);
        Assert.Equal(ScalarType.Float32, tensors["prompt_embeddings"].dtype);

        var json = JsonNode.Parse(File.ReadAllText(dir.File(AdapterFiles.ConfigFile)))!.AsObject();
        var model = peft.Model;
        bool prefix = method.StartsWith("prefix");
        var (kvHeads, headDim) = model.KeyValueShape;
        Assert.Equal(peft.Adapters["default"].PeftType, (string)json["peft_type"]!);
        Assert.Equal(4, (int)json["num_virtual_tokens"]!);
        Assert.Equal(prefix ? kvHeads * headDim : model.Config.HiddenSize, (int)json["token_dim"]!);
        Assert.Equal(prefix ? kvHeads : model.Config.NumHeads, (int)json["num_attention_heads"]!);
        Assert.Equal(model.LayerCount, (int)json["num_layers"]!);
        Assert.Equal(1, (int)json["num_transformer_submodules"]!);
        Assert.True((bool)json["inference_mode"]!);
        Assert.Equal("FEATURE_EXTRACTION", (string)json["task_type"]!);
        var expectedFields = method switch
        {
            "prompt-tuning" => new[] { "prompt_tuning_init", "prompt_tuning_init_text", "tokenizer_name_or_path" },
            "prefix" or "prefix-projection" => new[] { "prefix_projection", "encoder_hidden_size" },
            _ => new[] { "encoder_reparameterization_type", "encoder_hidden_size", "encoder_num_layers", "encoder_dropout" },
        };
        Assert.All(expectedFields, f => Assert.True(json.ContainsKey(f), f));
    }

    [Theory]
    [MemberData(nameof(PromptTestKit.MethodsOnAll), MemberType = typeof(PromptTestKit))]
    public void SaveThenLoadGivesIdenticalOutputsFromTheFoldedTensor(string method, string modelType)
    {
        var peft = PromptTestKit.Create(method, modelType);
        var ids = TinyModels.RandomIds(2, 6);
        var expected = PromptTestKit.Output(peft, ids);
        using var dir = Fixtures.TempDir();
        peft.SaveAdapter(dir.Path);
        var loaded = PeftModel.Load(TinyModels.Create(modelType, PromptTestKit.Task(modelType)), dir.Path);
        Assert.True(Fixtures.MaxAbsDiff(PromptTestKit.Output(loaded, ids), expected) < 1e-6);
        // Inference carries only the prompt: the reparameterisation network is not rebuilt.
        var names = loaded.named_parameters().Select(p => p.name).Where(n => n.StartsWith("prompt_encoder.")).ToList();
        Assert.Equal(new[] { "prompt_encoder.default.embedding.weight" }, names);
        Assert.Equal(0, loaded.TrainableParameters().Trainable);
        // Loaded as trainable, training goes on from the saved prompt.
        var resumed = PeftModel.Load(TinyModels.Create(modelType, PromptTestKit.Task(modelType)), dir.Path, trainable: true);
        Assert.Contains(resumed.named_parameters(), p => p.name == "prompt_encoder.default.embedding.weight" && p.parameter.requires_grad);
    }

    [Theory]
    [InlineData("prefix-projection", "gpt2")]
    [InlineData("prefix-projection", "llama")]
    [InlineData("p-tuning-mlp", "bert")]
    [InlineData("p-tuning-lstm", "gpt2")]
    public void FoldingTheReparameterisationChangesNothing(string method, string modelType)
    {
        var peft = PromptTestKit.Create(method, modelType);
        var ids = TinyModels.RandomIds(2, 6);
        var before = PromptTestKit.Output(peft, ids);
        long parameters = peft.TrainableParameters().Trainable;
        var encoder = PromptLearning.Adapter(peft)!.Encoder("default");
        Assert.True(encoder.HasNetwork);
        PromptLearning.Fold(peft, "default");
        Assert.False(encoder.HasNetwork);
        Assert.True(Fixtures.MaxAbsDiff(PromptTestKit.Output(peft, ids), before) < 1e-6);
        Assert.Equal(new[] { "prompt_encoder.default.embedding.weight" }, peft.named_parameters().Select(p => p.name).Where(n => n.StartsWith("prompt_encoder.")));
        Assert.NotEqual(parameters, peft.TrainableParameters().Trainable);
        // The folded prompt still trains.
        PromptTestKit.Train(peft, ids, steps: 1);
        Assert.True(Fixtures.MaxAbsDiff(PromptTestKit.Output(peft, ids), before) > 1e-4);
    }

    [Fact]
    public void ParameterNamesArePefts()
    {
        var names = new Dictionary<string, string[]>
        {
            ["prompt-tuning"] = new[] { "prompt_encoder.default.embedding.weight" },
            ["prefix"] = new[] { "prompt_encoder.default.embedding.weight" },
            ["prefix-projection"] = new[]
            {
                "prompt_encoder.default.embedding.weight", "prompt_encoder.default.transform.0.weight", "prompt_encoder.default.transform.0.bias",
                "prompt_encoder.default.transform.2.weight", "prompt_encoder.default.transform.2.bias",
            },
            ["p-tuning-mlp"] = new[] { "prompt_encoder.default.embedding.weight" }
                .Concat(new[] { 0, 2, 4 }.SelectMany(i => new[] { $"prompt_encoder.default.mlp_head.{i}.weight", $"prompt_encoder.default.mlp_head.{i}.bias" })).ToArray(),
        };
        foreach (var (method, expected) in names)
        {
            var peft = PromptTestKit.Create(method, "gpt2", ModelTask.Base, train: false);
            var actual = peft.named_parameters().Select(p => p.name).Where(n => n.StartsWith("prompt_encoder.")).ToArray();
            Assert.Equal(expected.Order(), actual.Order());
        }
        var lstm = PromptTestKit.Create("p-tuning-lstm", "gpt2", ModelTask.Base, train: false);
        var lstmNames = lstm.named_parameters().Select(p => p.name).ToList();
        Assert.Contains("prompt_encoder.default.lstm_head.weight_ih_l0", lstmNames);
        Assert.Contains("prompt_encoder.default.lstm_head.weight_hh_l1_reverse", lstmNames);
        Assert.Contains("prompt_encoder.default.mlp_head.2.bias", lstmNames);
    }

    [Fact]
    public void ClassificationHeadIsSavedUnderPeftsPromptLearningKeys()
    {
        // PEFT wraps no tuner model around the transformer for prompt learning: modules_to_save keys read base_model.<path>.
        var peft = PromptTestKit.Create("prefix", "bert", ModelTask.SequenceClassification);
        using var dir = Fixtures.TempDir();
        peft.SaveAdapter(dir.Path);
        var keys = Fixtures.ReadTensors(dir.File(AdapterFiles.WeightsFile)).Keys.Order().ToArray();
        Assert.Equal(new[] { "base_model.classifier.bias", "base_model.classifier.weight", "prompt_embeddings" }, keys);
        var config = PeftMethods.ReadConfig(dir.File(AdapterFiles.ConfigFile));
        Assert.Equal("SEQ_CLS", config.TaskType);
        Assert.Contains("classifier", config.ModulesToSave!);
        var ids = TinyModels.RandomIds(2, 6);
        var loaded = PeftModel.Load(TinyModels.Create("bert", ModelTask.SequenceClassification), dir.Path);
        Assert.True(Fixtures.MaxAbsDiff(PromptTestKit.Output(loaded, ids), PromptTestKit.Output(peft, ids)) < 1e-6);
    }
}
