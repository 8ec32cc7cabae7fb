using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.IA3;
using PeftSharp.Tuners.Lora;
using PeftSharp.Tuners.Selection;

namespace PeftSharp.Tests.Tuners;

/// <summary>What PeftSharp writes: PEFT's adapter_config.json fields and the exact tensor names of every method.</summary>
public class AdapterFileFormatTests
{
    /// <summary>Saves the adapter of <paramref name="config"/> on a fresh tiny model; returns the config JSON and the tensor keys.</summary>
    static (JsonObject Config, List<string> Keys) Saved(PeftConfig config, string modelType = "llama", ModelTask task = ModelTask.CausalLM)
    {
        var peft = PeftModel.Create(TinyModels.Create(modelType, task), config);
        using var dir = Fixtures.TempDir();
        peft.SaveAdapter(dir.Path);
        var json = JsonNode.Parse(File.ReadAllText(dir.File(AdapterFiles.ConfigFile)))!.AsObject();
        return (json, Fixtures.ReadTensors(dir.File(AdapterFiles.WeightsFile)).Keys.Order().ToList());
    }

    static string Json(JsonNode? node) => node?.ToJsonString() ?? "null";

    [Fact]
    public void LoraConfigUsesPeftFieldNamesAndValues()
    {
        var (json, _) = Saved(new LoraConfig
        {
            R = 4, LoraAlpha = 16, LoraDropout = 0.05, UseRsLora = true, BaseModelNameOrPath = "tiny-llama",
            Targets = new TargetPatterns { Names = new[] { "q_proj", "v_proj" } },
        });
        var expected = new Dictionary<string, string>
        {
            ["peft_type"] = "\"LORA\"", ["task_type"] = "\"CAUSAL_LM\"", ["base_model_name_or_path"] = "\"tiny-llama\"", ["r"] = "4",
            ["lora_alpha"] = "16", ["lora_dropout"] = "0.05", ["target_modules"] = """["q_proj","v_proj"]""", ["modules_to_save"] = "null",
            ["use_rslora"] = "true", ["use_dora"] = "false", ["fan_in_fan_out"] = "false", ["bias"] = "\"none\"", ["init_lora_weights"] = "true",
            ["inference_mode"] = "true", ["rank_pattern"] = "{}", ["alpha_pattern"] = "{}", ["layers_to_transform"] = "null",
            ["layers_pattern"] = "null", ["revision"] = "null",
        };
        foreach (var (field, value) in expected) Assert.True(Json(json[field]) == value, $"{field}: {Json(json[field])}, expected {value}");
    }

    [Fact]
    public void FanInFanOutDefaultInitsAndModulesToSaveAreWrittenAsPeftReadsThem()
    {
        var (gpt2, _) = Saved(new LoraConfig { InitLoraWeights = "gaussian" }, "gpt2");
        Assert.Equal("true", Json(gpt2["fan_in_fan_out"]));                          // GPT-2's Conv1D stores [in, out]
        Assert.Equal("\"gaussian\"", Json(gpt2["init_lora_weights"]));
        Assert.Equal("""["c_attn"]""", Json(gpt2["target_modules"]));                   // the family's default targets
        var (bert, keys) = Saved(new LoraConfig { Targets = new TargetPatterns { Regex = @".*\.(query|value)" } }, "bert", ModelTask.SequenceClassification);
        Assert.Equal("\"SEQ_CLS\"", Json(bert["task_type"]));
        Assert.Equal("""["classifier","score"]""", Json(bert["modules_to_save"]));
        Assert.Equal("\".*\\\\.(query|value)\"", Json(bert["target_modules"]));
        Assert.Contains("base_model.model.classifier.weight", keys);
        Assert.Contains("base_model.model.classifier.bias", keys);
    }

    [Fact]
    public void IA3ConfigUsesPeftFieldNames()
    {
        var (json, _) = Saved(new IA3Config(), "gpt2");
        Assert.Equal("\"IA3\"", Json(json["peft_type"]));
        Assert.Equal("""["c_attn","mlp.c_proj"]""", Json(json["target_modules"]));
        Assert.Equal("""["mlp.c_proj"]""", Json(json["feedforward_modules"]));
        Assert.Equal("true", Json(json["fan_in_fan_out"]));
        Assert.Equal("true", Json(json["init_ia3_weights"]));
    }

    [Theory]
    [InlineData("LORA", """{"peft_type": "LORA", "r": 4, "target_modules": ["q_proj"], "future_field": 1, "layer_replication": [[0, 2]], "use_bdlora": null}""")]
    [InlineData("IA3", """{"peft_type": "IA3", "target_modules": ["k_proj"], "feedforward_modules": [], "future_field": {"a": 1}}""")]
    [InlineData("BITFIT", """{"peft_type": "BITFIT", "bias_groups": null, "future_field": "x"}""")]
    public void UnknownFieldsAreReportedNotFatal(string peftType, string text)
    {
        using var dir = Fixtures.TempDir();
        File.WriteAllText(dir.File(AdapterFiles.ConfigFile), text);
        var config = PeftMethods.ReadConfig(dir.File(AdapterFiles.ConfigFile));
        Assert.Equal(peftType, config.PeftType);
        Assert.Contains("future_field", config.IgnoredFields);
        if (peftType == "LORA")
        {
            Assert.Contains("layer_replication", config.IgnoredFields);              // known to PEFT, not supported here
            Assert.DoesNotContain("use_bdlora", config.IgnoredFields);               // null is its neutral value
        }
    }

    [Fact]
    public void RealPeftConfigsHaveNoIgnoredFields()
    {
        foreach (string adapter in new[] { "gpt2-lora-causal-lm", "distilbert-lora-seq-cls", "bert-base-lora-seq-cls" })
            Assert.Empty(PeftMethods.ReadConfig(Fixtures.Shared("adapters", adapter, AdapterFiles.ConfigFile)).IgnoredFields);
    }

    public static IEnumerable<object[]> SavedKeys()
    {
        const string l0 = "base_model.model.model.layers.0.";
        yield return new object[] { new LoraConfig { R = 2 }, "llama", ModelTask.CausalLM,
            new[] { l0 + "self_attn.q_proj.lora_A.weight", l0 + "self_attn.q_proj.lora_B.weight", l0 + "self_attn.v_proj.lora_A.weight" }, 8 };
        yield return new object[] { new LoraConfig { R = 2, UseDora = true }, "llama", ModelTask.CausalLM,
            new[] { l0 + "self_attn.q_proj.lora_A.weight", l0 + "self_attn.q_proj.lora_B.weight", l0 + "self_attn.q_proj.lora_magnitude_vector" }, 12 };
        yield return new object[] { new LoraConfig { R = 2, Targets = new TargetPatterns { Names = new[] { "embed_tokens" } } }, "llama", ModelTask.CausalLM,
            new[] { "base_model.model.model.embed_tokens.lora_embedding_A", "base_model.model.model.embed_tokens.lora_embedding_B" }, 2 };
        yield return new object[] { new IA3Config(), "llama", ModelTask.CausalLM,
            new[] { l0 + "self_attn.k_proj.ia3_l", l0 + "self_attn.v_proj.ia3_l", l0 + "mlp.down_proj.ia3_l" }, 6 };
        yield return new object[] { new LnTuningConfig(), "llama", ModelTask.CausalLM,
            new[] { l0 + "input_layernorm.ln_tuning_layers.weight", l0 + "post_attention_layernorm.ln_tuning_layers.weight", "base_model.model.model.norm.ln_tuning_layers.weight" }, 5 };
        yield return new object[] { new BitFitConfig { BiasGroups = new[] { "query" } }, "bert", ModelTask.SequenceClassification,
            new[] { "base_model.model.bert.encoder.layer.0.attention.self.query.bias", "base_model.model.bert.encoder.layer.1.attention.self.query.bias",
                    "base_model.model.classifier.weight", "base_model.model.classifier.bias" }, 4 };
        yield return new object[] { new PartialFineTuningConfig { TrainableLayers = 1 }, "llama", ModelTask.CausalLM,
            new[] { "base_model.model.model.layers.1.self_attn.q_proj.weight", "base_model.model.model.layers.1.input_layernorm.weight", "base_model.model.model.norm.weight" }, 10 };
        yield return new object[] { new PartialFineTuningConfig { Full = true }, "llama", ModelTask.CausalLM,
            new[] { "base_model.model.model.embed_tokens.weight", l0 + "mlp.gate_proj.weight", "base_model.model.lm_head.weight" }, 21 };
        yield return new object[] { new LoraConfig { R = 2 }, "bert", ModelTask.SequenceClassification,
            new[] { "base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight", "base_model.model.classifier.weight", "base_model.model.classifier.bias" }, 10 };
    }

    [Theory]
    [MemberData(nameof(SavedKeys))]
    public void EveryMethodSavesPeftKeyNames(PeftConfig config, string modelType, ModelTask task, string[] someKeys, int count)
    {
        var (_, keys) = Saved(config, modelType, task);
        foreach (string key in someKeys) Assert.Contains(key, keys);
        Assert.Equal(count, keys.Count);
        Assert.All(keys, k => Assert.StartsWith(AdapterFiles.KeyPrefix, k));
        Assert.DoesNotContain(keys, k => k.Contains(".default") || k.Contains("base_layer") || k.Contains("overrides"));
    }
}
