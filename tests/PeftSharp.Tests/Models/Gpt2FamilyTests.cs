using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Models.Gpt2;
using PeftSharp.Modules;
using static TorchSharp.torch;
using static PeftSharp.Tests.Models.CheckpointFiles;

namespace PeftSharp.Tests.Models;

/// <summary>GPT-2: Hugging Face's names and layouts, old checkpoints, tied head, attention scalings, config errors.</summary>
public class Gpt2FamilyTests
{
    static readonly ModelFamily Family = TinyModels.Family("gpt2");

    [Fact]
    public void CheckpointKeysAndShapesAreThoseTransformersWrote()
    {
        string dir = Fixtures.Shared("reference", "gpt2");
        var (_, config) = AutoModel.ReadConfig(dir);
        var model = AutoModel.Create(config, ModelTask.CausalLM);
        var expected = Fixtures.ReadTensors(Path.Combine(dir, "model.safetensors"));
        var actual = State(model);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, tensor) in expected) Assert.True(tensor.shape.SequenceEqual(actual[key].shape), $"{key}: [{string.Join(", ", actual[key].shape)}]");
        Assert.IsType<PeftSharp.Modules.Conv1D>(model.named_modules().Single(m => m.name == "transformer.h.0.attn.c_attn").module);
    }

    [Fact]
    public void OldCheckpointWithoutPrefixWithMaskBuffersAndHeadLoads()
    {
        var original = TinyModels.Create("gpt2", ModelTask.CausalLM);
        var tensors = WithoutPrefix(State(original), "transformer");
        for (int layer = 0; layer < 2; layer++)
        {
            tensors[$"h.{layer}.attn.bias"] = ones(64, 64).tril().view(1, 1, 64, 64);
            tensors[$"h.{layer}.attn.masked_bias"] = tensor(-1e4f);
        }
        tensors["lm_head.weight"] = tensors["wte.weight"];                  // old files stored the tied head too
        using var dir = Fixtures.TempDir();
        Write(dir.Path, original.Config, "GPT2LMHeadModel", tensors);

        var loaded = AutoModel.Load(dir.Path);
        Assert.Equal(ModelTask.CausalLM, loaded.Model.Task);
        Assert.Empty(loaded.Report.NewlyInitialized);
        Assert.Empty(loaded.Report.Dropped);
        Assert.Empty(loaded.Report.Warnings);
        var ids = TinyModels.RandomIds(2, 6);
        AssertIdentical(Output(original, ids), Output(loaded.Model, ids), "logits");
    }

    [Fact]
    public void LmHeadIsTheTokenEmbeddingMatrix()
    {
        var model = TinyModels.Create("gpt2", ModelTask.CausalLM);
        Assert.Equal("transformer.wte.weight", model.TiedParameters["lm_head.weight"]);
        Assert.DoesNotContain("lm_head.weight", State(model).Keys);
        var ids = TinyModels.RandomIds(2, 5);                               // ids >= 3: token 1 is not an input
        var before = Output(model, ids);
        using (no_grad()) Live(model, "transformer.wte.weight")[1].add_(randn(32));   // a random direction: ln_f outputs have zero mean
        var change = (Output(model, ids) - before).abs();
        // Only the logit of token 1 moves: hidden states are unchanged, lm_head row 1 is the changed embedding.
        Assert.True(change.select(-1, 1).min().item<float>() > 0, "logit of token 1 did not change");
        change.select(-1, 1).zero_();
        Assert.Equal(0f, change.max().item<float>());
    }

    [Fact]
    public void PrefixKeysAndValuesThroughTheCacheMatchPeftPrefixTuning()
    {
        // reference/gpt2-prefix: PEFT prefix tuning, prompt_embeddings [P, layers * 2 * hidden]. PEFT views them as
        // [B, P, layers * 2, heads, head_dim] and permutes to per-layer (key, value) pairs [B, heads, P, head_dim];
        // transformers then shifts positions by P. Fed through the cache, they must give the logits PEFT computed.
        var io = Fixtures.ReadTensors(Fixtures.Shared("reference", "io", "gpt2.safetensors"));
        var prompt = Fixtures.ReadTensors(Fixtures.Shared("reference", "gpt2-prefix", "adapter_model.safetensors"))["prompt_embeddings"];
        var model = AutoModel.Load(Fixtures.Shared("reference", "gpt2")).Model;
        var (ids, mask) = (io["input_ids"], io["attention_mask"]);
        long batch = ids.shape[0], virtualTokens = prompt.shape[0];
        var (heads, headDim) = model.KeyValueShape;
        var pairs = prompt.unsqueeze(0).expand(batch, -1, -1).reshape(batch, virtualTokens, model.LayerCount * 2, heads, headDim).permute(2, 0, 3, 1, 4);
        using var cache = new KvCache(model.LayerCount);
        for (int layer = 0; layer < model.LayerCount; layer++) cache.Set(layer, pairs[2 * layer], pairs[2 * layer + 1]);
        using var _ = no_grad();
        var fullMask = cat(new[] { ones(batch, virtualTokens, ScalarType.Int64), mask }, 1);
        var logits = model.call(new ModelInputs { InputIds = ids, AttentionMask = fullMask, Cache = cache }).Logits!;
        var real = mask.to(ScalarType.Bool);
        double diff = Fixtures.MaxAbsDiff(logits[real], io["gpt2-prefix.logits"][real]);
        Assert.True(diff < 1e-4, $"max diff {diff}");
    }

    [Fact]
    public void TokenTypeIdsAreEmbeddedWithTheTokenTable()
    {
        var model = TinyModels.Create("gpt2", ModelTask.Base);
        var ids = TinyModels.RandomIds(2, 5);
        var types = TinyModels.RandomIds(2, 5, seed: 9);
        using var _ = no_grad();
        var withTypes = model.call(new ModelInputs { InputIds = ids, TokenTypeIds = types }).LastHiddenState;
        var wte = model.InputEmbeddings;
        var embedded = model.call(new ModelInputs { InputsEmbeds = wte.call(ids) + wte.call(types) }).LastHiddenState;
        Assert.True(Fixtures.MaxAbsDiff(withTypes, embedded) < 1e-5);
    }

    [Fact]
    public void InverseLayerScalingEqualsScaledQueryWeights()
    {
        // scale_attn_by_inverse_layer_idx divides layer i's scores by i + 1, scale_attn_weights false drops 1/sqrt(head_dim):
        // both equal the plain model with the query columns of c_attn (the first n_embd) scaled accordingly.
        var plain = TinyModels.Create("gpt2", ModelTask.Base);
        var scaled = AutoModel.Create(ConfigWith(("scale_attn_by_inverse_layer_idx", true), ("scale_attn_weights", false)), ModelTask.Base);
        var reference = TinyModels.Create("gpt2", ModelTask.Base);
        using (no_grad())
        {
            foreach (var (key, value) in scaled.state_dict()) value.copy_(plain.state_dict()[key]);
            double sqrtHeadDim = Math.Sqrt(32 / 4);
            for (int layer = 0; layer < 2; layer++)
            {
                double factor = sqrtHeadDim / (layer + 1);
                Live(reference, $"h.{layer}.attn.c_attn.weight").narrow(1, 0, 32).mul_(factor);
                Live(reference, $"h.{layer}.attn.c_attn.bias").narrow(0, 0, 32).mul_(factor);
            }
        }
        var ids = TinyModels.RandomIds(2, 7);
        Assert.True(Fixtures.MaxAbsDiff(Output(reference, ids), Output(scaled, ids)) < 1e-5);
        Assert.True(Fixtures.MaxAbsDiff(Output(plain, ids), Output(scaled, ids)) > 1e-3, "the scalings had no effect");
    }

    [Fact]
    public void ResidualProjectionsStartSmallerAsInHuggingFace()
    {
        var model = TinyModels.Create("gpt2", ModelTask.Base);                        // 2 layers: std 0.02 / sqrt(4) = 0.01
        float Std(string key) => Live(model, key).std().item<float>();
        Assert.InRange(Std("h.0.attn.c_attn.weight"), 0.018f, 0.022f);
        Assert.InRange(Std("h.0.attn.c_proj.weight"), 0.008f, 0.012f);
        Assert.InRange(Std("h.1.mlp.c_proj.weight"), 0.009f, 0.011f);
        Assert.InRange(Std("h.1.mlp.c_fc.weight"), 0.019f, 0.021f);
    }

    [Fact]
    public void AliasesAndDefaultsAreHuggingFaces()
    {
        var config = (Gpt2Config)Family.ParseConfig(ConfigReader.Parse(
            """{"model_type": "gpt2", "hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 8, "max_position_embeddings": 128}""", "test"));
        Assert.Equal((64, 3, 8, 128), (config.HiddenSize, config.NumLayers, config.NumHeads, config.MaxPositions));
        Assert.Equal(256, config.InnerSize);
        var defaults = (Gpt2Config)Family.ParseConfig(ConfigReader.Parse("""{"model_type": "gpt2"}""", "test"));
        Assert.Equal((768, 12, 12, 1024, 50257, 3072), (defaults.HiddenSize, defaults.NumLayers, defaults.NumHeads, defaults.MaxPositions, defaults.VocabSize, defaults.InnerSize));
        Assert.Equal(("gelu_new", 1e-5, true), (defaults.Activation, defaults.LayerNormEps, defaults.TieWordEmbeddings));
    }

    [Theory]
    [InlineData("""{"model_type": "gpt2", "n_embd": 30, "n_head": 4}""", "n_embd", "not divisible")]
    [InlineData("""{"model_type": "gpt2", "n_layer": "two"}""", "n_layer", "integer")]
    [InlineData("""{"model_type": "gpt2", "n_head": 2.5}""", "n_head", "integer")]
    [InlineData("""{"model_type": "gpt2", "layer_norm_epsilon": "tiny"}""", "layer_norm_epsilon", "number")]
    [InlineData("""{"model_type": "gpt2", "activation_function": "gelu_fancy"}""", "activation_function", "gelu_fancy")]
    [InlineData("""{"model_type": "gpt2", "reorder_and_upcast_attn": true}""", "reorder_and_upcast_attn", "not supported")]
    [InlineData("""{"model_type": "gpt2", "scale_attn_weights": "yes"}""", "scale_attn_weights", "true or false")]
    [InlineData("""{"model_type": "gpt2", "n_inner": -1}""", "n_inner", "positive")]
    public void BadConfigNamesTheField(string json, string field, string message)
    {
        var error = Assert.Throws<ConfigException>(() => Family.ParseConfig(ConfigReader.Parse(json, "bad.json")));
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message);
        Assert.Contains("bad.json", error.Message);
    }

    [Fact]
    public void MisShapedTensorIsNamedWithBothShapes()
    {
        var original = TinyModels.Create("gpt2", ModelTask.Base);
        var tensors = State(original);
        tensors["h.1.attn.c_attn.weight"] = tensors["h.1.attn.c_attn.weight"].t();   // nn.Linear's [out, in] layout
        using var dir = Fixtures.TempDir();
        Write(dir.Path, original.Config, "GPT2Model", tensors);
        var error = Assert.Throws<WeightMismatchException>(() => AutoModel.Load(dir.Path));
        Assert.Contains("h.1.attn.c_attn.weight: checkpoint [96, 32], model expects [32, 96]", error.Message);
    }

    static ModelConfig ConfigWith(params (string Field, bool Value)[] fields)
    {
        var json = JsonNode.Parse(TinyModels.Configs["gpt2"])!.AsObject();
        foreach (var (field, value) in fields) json[field] = value;
        return Family.ParseConfig(new ConfigReader(json, "tiny gpt2 config"));
    }
}
