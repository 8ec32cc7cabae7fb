using System.Text.Json;
using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Modules;
using PeftSharp.Tokenization;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.Lora;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners;

/// <summary>
/// The three adapters Python PEFT wrote for real models (shared/adapters), loaded onto randomly initialised bases of the
/// real shapes (full depth, so that every key must fit), built once for the class.
/// </summary>
public sealed class RealAdapterModels : IDisposable
{
    /// <summary>Each adapter's base model: model_type, head and config.json (the labels of a classifier come from the adapter file).</summary>
    static readonly Dictionary<string, (ModelTask Task, string Config)> Bases = new()
    {
        ["gpt2-lora-causal-lm"] = (ModelTask.CausalLM, """
            {"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "vocab_size": 50257, "n_positions": 1024, "n_inner": null,
             "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "bos_token_id": 50256, "eos_token_id": 50256}
            """),
        ["distilbert-lora-seq-cls"] = (ModelTask.SequenceClassification, """
            {"model_type": "distilbert", "dim": 768, "n_layers": 6, "n_heads": 12, "hidden_dim": 3072, "vocab_size": 30522,
             "max_position_embeddings": 512, "activation": "gelu", "sinusoidal_pos_embds": false, "pad_token_id": 0}
            """),
        ["bert-base-lora-seq-cls"] = (ModelTask.SequenceClassification, """
            {"model_type": "bert", "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
             "vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
             "pad_token_id": 0}
            """),
    };

    readonly Dictionary<string, PeftModel> _loaded = new();

    public static string Directory(string adapter) => Fixtures.Shared("adapters", adapter);

    public static Dictionary<string, Tensor> FileTensors(string adapter) => Fixtures.ReadTensors(Path.Combine(Directory(adapter), AdapterFiles.WeightsFile));

    public static JsonObject FileConfig(string adapter) => JsonNode.Parse(File.ReadAllText(Path.Combine(Directory(adapter), AdapterFiles.ConfigFile)))!.AsObject();

    /// <summary>The adapter loaded onto a fresh random base of its model's shape.</summary>
    public PeftModel Loaded(string adapter)
    {
        lock (_loaded)
        {
            if (_loaded.TryGetValue(adapter, out var peft)) return peft;
            var (task, text) = Bases[adapter];
            var json = JsonNode.Parse(text)!.AsObject();
            if (task == ModelTask.SequenceClassification)
                json["num_labels"] = (int)FileTensors(adapter)["base_model.model.classifier.weight"].shape[0];
            var family = ModelFamilies.ForModelType(json["model_type"]!.GetValue<string>(), adapter);
            var model = AutoModel.Create(family.ParseConfig(new ConfigReader(json, $"{adapter} base config")), task, seed: 1);
            return _loaded[adapter] = PeftModel.Load(model, Directory(adapter));
        }
    }

    public void Dispose()
    {
        foreach (var peft in _loaded.Values) peft.Dispose();
    }
}

public class RealAdapterTests : IClassFixture<RealAdapterModels>
{
    readonly RealAdapterModels _models;

    public RealAdapterTests(RealAdapterModels models) => _models = models;

    /// <summary>Fields of Python PEFT's adapter_config.json that PeftSharp does not write, each with its neutral value.</summary>
    static readonly Dictionary<string, Func<JsonNode?, bool>> NeutralUnwritten = new()
    {
        ["exclude_modules"] = v => v is null,
        ["lora_bias"] = v => v?.GetValueKind() == JsonValueKind.False,
        ["use_qalora"] = v => v?.GetValueKind() == JsonValueKind.False,
        ["qalora_group_size"] = v => v?.GetValueKind() == JsonValueKind.Number,     // only read when use_qalora is true
        ["ensure_weight_tying"] = v => v?.GetValueKind() == JsonValueKind.False,
        ["peft_version"] = v => v?.GetValueKind() == JsonValueKind.String,          // informational
        ["corda_config"] = v => v is null, ["eva_config"] = v => v is null, ["target_parameters"] = v => v is null,
        ["trainable_token_indices"] = v => v is null, ["alora_invocation_tokens"] = v => v is null, ["arrow_config"] = v => v is null,
        ["lora_ga_config"] = v => v is null, ["monteclora_config"] = v => v is null, ["use_bdlora"] = v => v is null, ["velora_config"] = v => v is null,
    };

    [Theory]
    [InlineData("gpt2-lora-causal-lm", 72)]
    [InlineData("distilbert-lora-seq-cls", 28)]
    [InlineData("bert-base-lora-seq-cls", 50)]
    public void EveryTensorIsConsumedAndSavedBackUnchanged(string adapter, int count)
    {
        var peft = _models.Loaded(adapter);
        var file = RealAdapterModels.FileTensors(adapter);
        Assert.Equal(count, file.Count);
        Assert.Empty(peft.Adapters["default"].IgnoredFields);
        // What the loaded adapter would save is exactly what the file holds: no key left over, none missing.
        var (_, state) = AdapterFiles.SaveForm(peft, "default", peft.Adapters["default"]);
        Assert.Equal(file.Keys.Order(), state.Keys.Order());
        foreach (var (key, value) in file) Assert.True(value.equal(state[key]).all().item<bool>(), $"{key} differs after loading");

        using var dir = Fixtures.TempDir();
        peft.SaveAdapter(dir.Path);
        var again = Fixtures.ReadTensors(dir.File(AdapterFiles.WeightsFile));
        Assert.Equal(file.Keys.Order(), again.Keys.Order());
        foreach (var (key, value) in file) Assert.True(value.equal(again[key]).all().item<bool>(), $"{key} differs after saving again");

        var original = RealAdapterModels.FileConfig(adapter);
        var written = JsonNode.Parse(File.ReadAllText(dir.File(AdapterFiles.ConfigFile)))!.AsObject();
        Assert.Empty(written.Select(p => p.Key).Except(original.Select(p => p.Key)));
        foreach (var (field, value) in original)
        {
            if (written.TryGetPropertyValue(field, out var ours))
                Assert.True(SameJson(value, ours), $"{field}: file has {value?.ToJsonString() ?? "null"}, PeftSharp wrote {ours?.ToJsonString() ?? "null"}");
            else
                Assert.True(NeutralUnwritten.TryGetValue(field, out var neutral) && neutral(value), $"{field} = {value?.ToJsonString()} is not written back");
        }
    }

    [Theory]
    [InlineData("gpt2-lora-causal-lm", "transformer.h.0.attn.c_attn", "transformer.h.5.attn.c_proj", "transformer.h.11.mlp.c_proj")]
    [InlineData("distilbert-lora-seq-cls", "distilbert.transformer.layer.0.attention.q_lin", "distilbert.transformer.layer.5.attention.v_lin")]
    [InlineData("bert-base-lora-seq-cls", "bert.encoder.layer.0.attention.self.query", "bert.encoder.layer.11.attention.self.value")]
    public void MergedWeightIsTheBasePlusTheScaledUpdate(string adapter, params string[] paths)
    {
        var peft = _models.Loaded(adapter);
        var file = RealAdapterModels.FileTensors(adapter);
        var config = RealAdapterModels.FileConfig(adapter);
        double scaling = config["lora_alpha"]!.GetValue<double>() / config["r"]!.GetValue<double>();
        var layers = paths.Select(p => (LoraLayer)ModuleTree.Get(peft.Model, p)).ToList();
        var before = layers.Select(l => StoredWeight(l).detach().clone()).ToList();
        try
        {
            peft.Merge();
            for (int i = 0; i < paths.Length; i++)
            {
                var update = file[$"base_model.model.{paths[i]}.lora_B.weight"].matmul(file[$"base_model.model.{paths[i]}.lora_A.weight"]) * scaling; // [out, in]
                // GPT-2's Conv1D stores its weight as [in, out] (fan_in_fan_out), so the update goes in transposed.
                bool conv = layers[i].base_layer is Conv1D;
                Assert.Equal(conv, config["fan_in_fan_out"]!.GetValue<bool>());
                Assert.Equal(conv ? new[] { layers[i].InFeatures, layers[i].OutFeatures } : new[] { layers[i].OutFeatures, layers[i].InFeatures }, before[i].shape);
                var expected = before[i] + (conv ? update.t() : update);
                double diff = Fixtures.MaxAbsDiff(StoredWeight(layers[i]), expected);
                Assert.True(diff < 1e-6, $"{paths[i]}: merged weight differs by {diff}");
                Assert.True(Fixtures.MaxAbsDiff(expected, before[i]) > 1e-6, "the trained update is not empty");
            }
        }
        finally
        {
            peft.Unmerge();
        }
        for (int i = 0; i < paths.Length; i++) Assert.True(Fixtures.MaxAbsDiff(StoredWeight(layers[i]), before[i]) < 1e-6);
    }

    static Tensor StoredWeight(LoraLayer layer) => layer.base_layer switch
    {
        Conv1D conv => conv.weight,
        TorchSharp.Modules.Linear linear => linear.weight!,
        var other => throw new InvalidOperationException(other.GetType().Name),
    };

    [Theory]
    [InlineData("distilbert-lora-seq-cls", "pre_classifier", "classifier")]
    [InlineData("bert-base-lora-seq-cls", "classifier")]
    public void SavedHeadsAreRestoredExactly(string adapter, params string[] heads)
    {
        var peft = _models.Loaded(adapter);
        var file = RealAdapterModels.FileTensors(adapter);
        var copies = heads.Select(h => (ParameterOverrideLayer)ModuleTree.Get(peft.Model, h)).ToList();
        for (int i = 0; i < heads.Length; i++)
            foreach (var (key, value) in copies[i].AdapterState("default"))
                Assert.True(value.equal(file[$"base_model.model.{heads[i]}.{key}"]).all().item<bool>(), $"{heads[i]}.{key} is not the file's");
        try
        {
            peft.Merge();
            foreach (var (head, copy) in heads.Zip(copies))
                foreach (var (name, parameter) in copy.base_layer.named_parameters())
                    Assert.True(parameter.equal(file[$"base_model.model.{head}.{name}"]).all().item<bool>(), $"merged {head}.{name} is not the file's");
        }
        finally
        {
            peft.Unmerge();
        }
    }

    [Theory]
    [InlineData("gpt2-lora-causal-lm")]
    [InlineData("distilbert-lora-seq-cls")]
    [InlineData("bert-base-lora-seq-cls")]
    public void AdapterChangesTheOutput(string adapter)
    {
        var peft = _models.Loaded(adapter);
        var ids = tensor(new long[] { 101, 7592, 2088, 102 }).unsqueeze(0);
        var adapted = TunerTesting.Output(peft, ids);
        using (peft.DisableAdapters())
            Assert.True(Fixtures.MaxAbsDiff(TunerTesting.Output(peft, ids), adapted) > 1e-4);
    }

    [Theory]
    [InlineData("gpt2-lora-causal-lm", "Hello world", new[] { 15496, 995 })]
    [InlineData("gpt2-lora-causal-lm", "Hello, world!", new[] { 15496, 11, 995, 0 })]
    [InlineData("bert-base-lora-seq-cls", "hello world", new[] { 101, 7592, 2088, 102 })]
    [InlineData("bert-base-lora-seq-cls", "Hello, World!", new[] { 101, 7592, 1010, 2088, 999, 102 })]
    [InlineData("distilbert-lora-seq-cls", "hello world", new[] { 101, 7592, 2088, 102 })]
    public void TokenizerBesideTheAdapterEncodesAsHuggingFace(string adapter, string text, int[] ids)
    {
        var tokenizer = PretrainedTokenizer.FromDirectory(RealAdapterModels.Directory(adapter));
        Assert.Equal(ids, tokenizer.Encode(text).Ids);
        Assert.Equal(text.ToLowerInvariant() == text || adapter.StartsWith("gpt2") ? text : text.ToLowerInvariant(),
            tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void BertVocabTxtAndTokenizerJsonAgree()
    {
        string dir = RealAdapterModels.Directory("bert-base-lora-seq-cls");
        var fromJson = PretrainedTokenizer.FromDirectory(dir);
        var fromVocab = PretrainedTokenizer.FromWordPieceVocab(Path.Combine(dir, "vocab.txt"), TokenizerConfig.FromDirectory(dir));
        const string text = "Parameter-efficient fine-tuning adapts a frozen model with very few weights.";
        Assert.Equal(fromJson.Encode(text).Ids, fromVocab.Encode(text).Ids);
    }

    /// <summary>JSON equality with numbers compared by value (PEFT writes 32, PeftSharp 32.0 would be the same).</summary>
    static bool SameJson(JsonNode? a, JsonNode? b) => (a, b) switch
    {
        (null, null) => true,
        (JsonArray x, JsonArray y) => x.Count == y.Count && x.Zip(y).All(p => SameJson(p.First, p.Second)),
        (JsonObject x, JsonObject y) => x.Count == y.Count && x.All(p => y.TryGetPropertyValue(p.Key, out var v) && SameJson(p.Value, v)),
        (JsonValue x, JsonValue y) when x.GetValueKind() == JsonValueKind.Number && y.GetValueKind() == JsonValueKind.Number => x.GetValue<double>() == y.GetValue<double>(),
        (JsonValue x, JsonValue y) => x.ToJsonString() == y.ToJsonString(),
        _ => false,
    };
}
