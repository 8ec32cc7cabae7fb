using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Modules;
using static TorchSharp.torch;
using static PeftSharp.Tests.Models.CheckpointFiles;

namespace PeftSharp.Tests.Models;

/// <summary>BERT: Hugging Face's names, the loads real checkpoints need (bare, TF-era, pre-training), tied MLM head, config errors.</summary>
public class BertFamilyTests
{
    static readonly ModelFamily Family = TinyModels.Family("bert");

    [Fact]
    public void CheckpointKeysAndShapesAreThoseTransformersWrote()
    {
        string dir = Fixtures.Shared("reference", "bert");
        var (_, config) = AutoModel.ReadConfig(dir);
        var model = AutoModel.Create(config, ModelTask.SequenceClassification);
        var expected = Fixtures.ReadTensors(Path.Combine(dir, "model.safetensors"));
        var actual = State(model);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, tensor) in expected) Assert.True(tensor.shape.SequenceEqual(actual[key].shape), $"{key}: [{string.Join(", ", actual[key].shape)}]");
    }

    [Fact]
    public void BareCheckpointLoadsIntoClassifierWithANewHead()
    {
        var bare = TinyModels.Create("bert", ModelTask.Base);
        var tensors = State(bare);
        Assert.Contains("embeddings.word_embeddings.weight", tensors.Keys);             // no "bert." prefix
        using var dir = Fixtures.TempDir();
        Write(dir.Path, bare.Config, "BertModel", tensors);

        var loaded = AutoModel.Load(dir.Path, new ModelLoadOptions { Task = ModelTask.SequenceClassification, Seed = 1 });
        Assert.Equal("BertForSequenceClassification", loaded.Model.Architecture);
        Assert.Equal(new[] { "classifier.bias", "classifier.weight" }, loaded.Report.NewlyInitialized.Order());
        Assert.Equal(tensors.Count, loaded.Report.Loaded);
        Assert.Empty(loaded.Report.Dropped);
        var ids = TinyModels.RandomIds(2, 6);
        using var _ = no_grad();
        var expected = bare.call(new ModelInputs { InputIds = ids });
        var actual = loaded.Model.call(new ModelInputs { InputIds = ids });
        AssertIdentical(expected.LastHiddenState, actual.LastHiddenState, "hidden states");
        AssertIdentical(expected.PooledOutput!, actual.PooledOutput!, "pooled output");
        Assert.Equal(new long[] { 2, 3 }, actual.Logits!.shape);
        Assert.True(Live(loaded.Model, "classifier.bias").eq(0).all().item<bool>());
        Assert.True(Live(loaded.Model, "classifier.weight").std().item<float>() is > 0.005f and < 0.05f, "classifier not given N(0, 0.02)");
    }

    [Fact]
    public void TensorFlowEraGammaBetaNamesLoad()
    {
        var original = TinyModels.Create("bert", ModelTask.SequenceClassification);
        var tensors = Renamed(State(original), k => k.Replace("LayerNorm.weight", "LayerNorm.gamma").Replace("LayerNorm.bias", "LayerNorm.beta"));
        Assert.Contains("bert.embeddings.LayerNorm.gamma", tensors.Keys);
        using var dir = Fixtures.TempDir();
        Write(dir.Path, original.Config, original.Architecture, tensors);
        var loaded = AutoModel.Load(dir.Path);
        Assert.Empty(loaded.Report.NewlyInitialized);
        var ids = TinyModels.RandomIds(2, 6);
        AssertIdentical(Output(original, ids), Output(loaded.Model, ids), "logits");
    }

    [Fact]
    public void PreTrainingCheckpointLoadsIntoMaskedLmAndClassifier()
    {
        // A BertForPreTraining file: pooler, cls.predictions (with the tied decoder stored), cls.seq_relationship,
        // and the position_ids buffer older transformers saved.
        var mlm = TinyModels.Create("bert", ModelTask.MaskedLM);
        var tensors = State(mlm);
        var pooler = TinyModels.Create("bert", ModelTask.Base, seed: 8);
        tensors["bert.pooler.dense.weight"] = Live(pooler, "pooler.dense.weight");
        tensors["bert.pooler.dense.bias"] = randn(32) * 0.1;
        tensors["cls.predictions.decoder.weight"] = tensors["bert.embeddings.word_embeddings.weight"];
        tensors["cls.predictions.decoder.bias"] = tensors["cls.predictions.bias"];
        tensors["cls.seq_relationship.weight"] = randn(2, 32);
        tensors["cls.seq_relationship.bias"] = randn(2);
        tensors["bert.embeddings.position_ids"] = arange(64L).unsqueeze(0);
        using var dir = Fixtures.TempDir();
        Write(dir.Path, mlm.Config, "BertForPreTraining", tensors);

        var asMlm = AutoModel.Load(dir.Path, new ModelLoadOptions { Task = ModelTask.MaskedLM });
        Assert.Empty(asMlm.Report.NewlyInitialized);
        Assert.Equal(new[] { "bert.pooler.dense.bias", "bert.pooler.dense.weight", "cls.seq_relationship.bias", "cls.seq_relationship.weight" },
            asMlm.Report.Dropped.Order());
        var ids = TinyModels.RandomIds(2, 6);
        AssertIdentical(Output(mlm, ids), Output(asMlm.Model, ids), "MLM logits");

        var asClassifier = AutoModel.Load(dir.Path, new ModelLoadOptions { Task = ModelTask.SequenceClassification });
        Assert.Equal(new[] { "classifier.bias", "classifier.weight" }, asClassifier.Report.NewlyInitialized.Order());
        Assert.All(asClassifier.Report.Dropped, key => Assert.StartsWith("cls.", key));
        Assert.Equal(9, asClassifier.Report.Dropped.Count);                     // 7 of cls.predictions, 2 of cls.seq_relationship
        AssertIdentical(tensors["bert.pooler.dense.bias"], Live(asClassifier.Model, "bert.pooler.dense.bias"), "pooler bias");
    }

    [Fact]
    public void HeadsWithoutPoolerDropACheckpointsPooler()
    {
        var classifier = TinyModels.Create("bert", ModelTask.SequenceClassification);
        using var dir = Fixtures.TempDir();
        Write(dir.Path, classifier.Config, classifier.Architecture, State(classifier));
        foreach (var task in new[] { ModelTask.TokenClassification, ModelTask.MaskedLM })
        {
            var loaded = AutoModel.Load(dir.Path, new ModelLoadOptions { Task = task });
            Assert.Contains("bert.pooler.dense.weight", loaded.Report.Dropped);
            Assert.DoesNotContain(loaded.Model.state_dict().Keys, k => k.Contains("pooler"));
            Assert.Empty(loaded.Report.Warnings);
        }
    }

    [Fact]
    public void MaskedLmDecoderSharesEmbeddingsAndBias()
    {
        var model = TinyModels.Create("bert", ModelTask.MaskedLM);
        Assert.Equal("bert.embeddings.word_embeddings.weight", model.TiedParameters["cls.predictions.decoder.weight"]);
        Assert.Equal("cls.predictions.bias", model.TiedParameters["cls.predictions.decoder.bias"]);
        var saved = State(model).Keys;
        Assert.Contains("cls.predictions.bias", saved);
        Assert.Contains("cls.predictions.transform.LayerNorm.weight", saved);
        Assert.DoesNotContain(saved, k => k.StartsWith("cls.predictions.decoder", StringComparison.Ordinal));

        var ids = TinyModels.RandomIds(2, 5);
        var before = Output(model, ids);
        using (no_grad()) Live(model, "cls.predictions.bias")[1].add_(1.0);
        var afterBias = Output(model, ids);
        Assert.True(Fixtures.MaxAbsDiff(afterBias.select(-1, 1), before.select(-1, 1) + 1) < 1e-5, "decoder bias is not cls.predictions.bias");
        using (no_grad()) Live(model, "bert.embeddings.word_embeddings.weight")[1].add_(randn(32));   // token 1 is not an input
        var change = (Output(model, ids) - afterBias).abs();
        Assert.True(change.select(-1, 1).min().item<float>() > 0, "decoder weight is not the word embeddings");
        change.select(-1, 1).zero_();
        Assert.Equal(0f, change.max().item<float>());
    }

    [Fact]
    public void PooledOutputIsTanhDenseOfClsToken()
    {
        var model = TinyModels.Create("bert", ModelTask.Base);
        using var _ = no_grad();
        var outputs = model.call(new ModelInputs { InputIds = TinyModels.RandomIds(2, 5) });
        var cls = outputs.LastHiddenState.select(1, 0);
        var expected = nn.functional.linear(cls, Live(model, "pooler.dense.weight"), Live(model, "pooler.dense.bias")).tanh();
        Assert.True(Fixtures.MaxAbsDiff(expected, outputs.PooledOutput!) < 1e-6);
    }

    [Fact]
    public void TokenTypesDefaultToZeros()
    {
        var model = TinyModels.Create("bert", ModelTask.Base);
        var ids = TinyModels.RandomIds(2, 5);
        using var _ = no_grad();
        var implicitTypes = model.call(new ModelInputs { InputIds = ids }).LastHiddenState;
        var zeroTypes = model.call(new ModelInputs { InputIds = ids, TokenTypeIds = zeros_like(ids) }).LastHiddenState;
        var oneTypes = model.call(new ModelInputs { InputIds = ids, TokenTypeIds = ones_like(ids) }).LastHiddenState;
        AssertIdentical(zeroTypes, implicitTypes, "hidden states");
        Assert.True(Fixtures.MaxAbsDiff(zeroTypes, oneTypes) > 1e-3);
    }

    [Theory]
    [InlineData("""{"model_type": "bert", "hidden_size": 30, "num_attention_heads": 4}""", "hidden_size", "not divisible")]
    [InlineData("""{"model_type": "bert", "num_hidden_layers": "3"}""", "num_hidden_layers", "integer")]
    [InlineData("""{"model_type": "bert", "layer_norm_eps": [1e-12]}""", "layer_norm_eps", "number")]
    [InlineData("""{"model_type": "bert", "hidden_act": "swishy"}""", "hidden_act", "swishy")]
    [InlineData("""{"model_type": "bert", "position_embedding_type": "relative_key"}""", "position_embedding_type", "relative_key")]
    [InlineData("""{"model_type": "bert", "position_embedding_type": "relative_key_query"}""", "position_embedding_type", "only absolute")]
    [InlineData("""{"model_type": "bert", "type_vocab_size": 0}""", "type_vocab_size", "positive")]
    [InlineData("""{"model_type": "bert", "pad_token_id": 40000}""", "pad_token_id", "vocab_size")]
    [InlineData("""{"model_type": "bert", "add_cross_attention": true}""", "add_cross_attention", "not supported")]
    public void BadConfigNamesTheField(string json, string field, string message)
    {
        var error = Assert.Throws<ConfigException>(() => Family.ParseConfig(ConfigReader.Parse(json, "bad.json")));
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void ConfigDisagreeingWithWeightsNamesTensorAndShapes()
    {
        var original = TinyModels.Create("bert", ModelTask.Base);
        using var dir = Fixtures.TempDir();
        ModelSaver.Save(original, dir.Path);
        var json = JsonNode.Parse(File.ReadAllText(dir.File("config.json")))!.AsObject();
        json["vocab_size"] = 80;
        json["intermediate_size"] = 40;
        File.WriteAllText(dir.File("config.json"), json.ToJsonString());
        var error = Assert.Throws<WeightMismatchException>(() => AutoModel.Load(dir.Path));
        Assert.Contains("embeddings.word_embeddings.weight: checkpoint [64, 32], model expects [80, 32]", error.Message);
        Assert.Contains("encoder.layer.0.intermediate.dense.weight: checkpoint [48, 32], model expects [40, 32]", error.Message);
    }

    [Theory]
    [InlineData("bert")]
    [InlineData("roberta")]
    [InlineData("distilbert")]
    public void MaskedOutPrefixChangesNothing(string modelType)
    {
        // Prefixes reach encoders through the cache as in Hugging Face's past_key_values; masked out, they are invisible
        // (and, since positions count only real tokens, do not shift the positions either).
        var model = TinyModels.Create(modelType, ModelTask.Base);
        var ids = TinyModels.RandomIds(2, 5);
        var (heads, headDim) = model.KeyValueShape;
        using var _ = no_grad();
        var plain = model.call(new ModelInputs { InputIds = ids }).LastHiddenState;
        using var cache = new KvCache(model.LayerCount);
        for (int layer = 0; layer < model.LayerCount; layer++) cache.Set(layer, randn(2, heads, 3, headDim), randn(2, heads, 3, headDim));
        var hidden = model.call(new ModelInputs { InputIds = ids, Cache = cache, AttentionMask = cat(new[] { zeros(2, 3, ScalarType.Int64), ones_like(ids) }, 1) }).LastHiddenState;
        Assert.Equal(8, cache.Length);
        Assert.True(Fixtures.MaxAbsDiff(plain, hidden) < 1e-5, $"masked prefix changed outputs by {Fixtures.MaxAbsDiff(plain, hidden)}");
    }
}
