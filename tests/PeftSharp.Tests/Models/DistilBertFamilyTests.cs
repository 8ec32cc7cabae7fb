using PeftSharp.Models;
using PeftSharp.Models.DistilBert;
using static TorchSharp.torch;
using static PeftSharp.Tests.Models.CheckpointFiles;

namespace PeftSharp.Tests.Models;

/// <summary>DistilBERT: Hugging Face's names, config aliases, sinusoidal positions, tied MLM projector, heads.</summary>
public class DistilBertFamilyTests
{
    static readonly ModelFamily Family = TinyModels.Family("distilbert");

    [Fact]
    public void NamesAreHuggingFaces()
    {
        var keys = State(TinyModels.Create("distilbert", ModelTask.SequenceClassification)).Keys.Order().ToList();
        var expected = new List<string>
        {
            "distilbert.embeddings.word_embeddings.weight", "distilbert.embeddings.position_embeddings.weight",
            "distilbert.embeddings.LayerNorm.weight", "distilbert.embeddings.LayerNorm.bias",
            "pre_classifier.weight", "pre_classifier.bias", "classifier.weight", "classifier.bias",
        };
        foreach (int layer in new[] { 0, 1 })
            foreach (string module in new[] { "attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin", "sa_layer_norm", "ffn.lin1", "ffn.lin2", "output_layer_norm" })
                expected.AddRange(new[] { $"distilbert.transformer.layer.{layer}.{module}.weight", $"distilbert.transformer.layer.{layer}.{module}.bias" });
        Assert.Equal(expected.Order(), keys);
    }

    [Fact]
    public void MaskedLmProjectorSharesEmbeddingsWithItsOwnBias()
    {
        var model = TinyModels.Create("distilbert", ModelTask.MaskedLM);
        Assert.Equal("distilbert.embeddings.word_embeddings.weight", model.TiedParameters["vocab_projector.weight"]);
        var saved = State(model).Keys;
        Assert.Contains("vocab_projector.bias", saved);
        Assert.Contains("vocab_transform.weight", saved);
        Assert.Contains("vocab_layer_norm.weight", saved);
        Assert.DoesNotContain("vocab_projector.weight", saved);
        var ids = TinyModels.RandomIds(2, 5);
        var before = Output(model, ids);
        using (no_grad()) Live(model, "distilbert.embeddings.word_embeddings.weight")[1].add_(randn(32));
        var change = (Output(model, ids) - before).abs();
        Assert.True(change.select(-1, 1).min().item<float>() > 0, "projector weight is not the word embeddings");
        change.select(-1, 1).zero_();
        Assert.Equal(0f, change.max().item<float>());
    }

    [Fact]
    public void SequenceClassifierReadsTheFirstToken()
    {
        var model = TinyModels.Create("distilbert", ModelTask.SequenceClassification);
        using var _ = no_grad();
        var outputs = model.call(new ModelInputs { InputIds = TinyModels.RandomIds(2, 6) });
        var first = outputs.LastHiddenState.select(1, 0);
        var pre = nn.functional.relu(nn.functional.linear(first, Live(model, "pre_classifier.weight"), Live(model, "pre_classifier.bias")));
        var expected = nn.functional.linear(pre, Live(model, "classifier.weight"), Live(model, "classifier.bias"));
        Assert.True(Fixtures.MaxAbsDiff(expected, outputs.Logits!) < 1e-6);
    }

    [Fact]
    public void SinusoidalPositionsAreFixedSinusoids()
    {
        var config = Family.ParseConfig(ConfigReader.Parse(
            """{"model_type": "distilbert", "dim": 8, "n_layers": 1, "n_heads": 2, "hidden_dim": 16, "vocab_size": 10, "max_position_embeddings": 6, "sinusoidal_pos_embds": true}""", "test"));
        var model = AutoModel.Create(config, ModelTask.Base);
        var table = model.named_parameters().Single(p => p.name == "embeddings.position_embeddings.weight").parameter;
        Assert.False(table.requires_grad);
        for (int position = 0; position < 6; position++)
            for (int i = 0; i < 4; i++)
            {
                double angle = position / Math.Pow(10000, 2.0 * i / 8);
                Assert.Equal(Math.Sin(angle), table[position, 2 * i].item<float>(), 5);
                Assert.Equal(Math.Cos(angle), table[position, 2 * i + 1].item<float>(), 5);
            }
    }

    [Fact]
    public void AliasesAndDefaultsAreHuggingFaces()
    {
        var aliased = (DistilBertConfig)Family.ParseConfig(ConfigReader.Parse(
            """{"model_type": "distilbert", "hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 8}""", "test"));
        Assert.Equal((64, 3, 8), (aliased.HiddenSize, aliased.NumLayers, aliased.NumHeads));
        var defaults = (DistilBertConfig)Family.ParseConfig(ConfigReader.Parse("""{"model_type": "distilbert"}""", "test"));
        Assert.Equal((768, 6, 12, 3072, 30522, 512), (defaults.HiddenSize, defaults.NumLayers, defaults.NumHeads, defaults.FeedForwardSize, defaults.VocabSize, defaults.MaxPositions));
        Assert.Equal(("gelu", 0.2, 0), (defaults.Activation, defaults.SequenceClassifierDropout, defaults.PaddingIndex));
    }

    [Theory]
    [InlineData("""{"model_type": "distilbert", "dim": 30, "n_heads": 4}""", "dim", "not divisible")]
    [InlineData("""{"model_type": "distilbert", "n_layers": 2.5}""", "n_layers", "integer")]
    [InlineData("""{"model_type": "distilbert", "activation": "mish"}""", "activation", "mish")]
    [InlineData("""{"model_type": "distilbert", "sinusoidal_pos_embds": 1}""", "sinusoidal_pos_embds", "true or false")]
    [InlineData("""{"model_type": "distilbert", "hidden_dim": 0}""", "hidden_dim", "positive")]
    public void BadConfigNamesTheField(string json, string field, string message)
    {
        var error = Assert.Throws<ConfigException>(() => Family.ParseConfig(ConfigReader.Parse(json, "bad.json")));
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void OldCheckpointWithPositionIdsBufferLoads()
    {
        var original = TinyModels.Create("distilbert", ModelTask.TokenClassification);
        var tensors = State(original);
        tensors["distilbert.embeddings.position_ids"] = arange(64L).unsqueeze(0);
        using var dir = Fixtures.TempDir();
        Write(dir.Path, original.Config, original.Architecture, tensors);
        var loaded = AutoModel.Load(dir.Path);
        Assert.Equal(ModelTask.TokenClassification, loaded.Model.Task);
        Assert.Empty(loaded.Report.Dropped);
        var ids = TinyModels.RandomIds(2, 6);
        AssertIdentical(Output(original, ids), Output(loaded.Model, ids), "logits");
    }
}
