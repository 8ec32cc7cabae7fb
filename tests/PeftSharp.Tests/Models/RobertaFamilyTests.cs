using PeftSharp.Models;
using PeftSharp.Models.Bert;
using static TorchSharp.torch;
using static PeftSharp.Tests.Models.CheckpointFiles;

namespace PeftSharp.Tests.Models;

/// <summary>RoBERTa: positions offset by padding_idx + 1, its own heads and names, pooler handling.</summary>
public class RobertaFamilyTests
{
    [Fact]
    public void PositionsStartAfterThePaddingIndex()
    {
        var model = TinyModels.Create("roberta", ModelTask.Base);                      // pad_token_id 1
        var ids = TinyModels.RandomIds(2, 5);
        using var _ = no_grad();
        var implicitPositions = model.call(new ModelInputs { InputIds = ids }).LastHiddenState;
        var explicitPositions = model.call(new ModelInputs { InputIds = ids, PositionIds = arange(2L, 7L).expand(2, -1) }).LastHiddenState;
        var bertStyle = model.call(new ModelInputs { InputIds = ids, PositionIds = arange(0L, 5L).expand(2, -1) }).LastHiddenState;
        AssertIdentical(explicitPositions, implicitPositions, "hidden states");
        Assert.True(Fixtures.MaxAbsDiff(bertStyle, implicitPositions) > 1e-3);
    }

    [Fact]
    public void NamesAreHuggingFaces()
    {
        var mlm = State(TinyModels.Create("roberta", ModelTask.MaskedLM)).Keys;
        Assert.Contains("roberta.embeddings.position_embeddings.weight", mlm);
        Assert.Contains("roberta.encoder.layer.1.attention.self.query.weight", mlm);
        Assert.Contains("lm_head.bias", mlm);
        Assert.Contains("lm_head.dense.weight", mlm);
        Assert.Contains("lm_head.layer_norm.weight", mlm);
        Assert.DoesNotContain(mlm, k => k.StartsWith("lm_head.decoder", StringComparison.Ordinal) || k.Contains("pooler"));
        var classifier = State(TinyModels.Create("roberta", ModelTask.SequenceClassification)).Keys;
        Assert.Contains("classifier.dense.weight", classifier);
        Assert.Contains("classifier.out_proj.bias", classifier);
        Assert.DoesNotContain(classifier, k => k.Contains("pooler"));
        Assert.Contains("roberta.pooler.dense.weight", State(TinyModels.Create("roberta", ModelTask.Base)).Keys.Select(k => "roberta." + k));
    }

    [Fact]
    public void LmHeadDecoderSharesEmbeddingsAndBias()
    {
        var model = TinyModels.Create("roberta", ModelTask.MaskedLM);
        Assert.Equal("roberta.embeddings.word_embeddings.weight", model.TiedParameters["lm_head.decoder.weight"]);
        Assert.Equal("lm_head.bias", model.TiedParameters["lm_head.decoder.bias"]);
        var ids = TinyModels.RandomIds(2, 5);
        var before = Output(model, ids);
        using (no_grad()) Live(model, "lm_head.bias")[0].add_(1.0);
        Assert.True(Fixtures.MaxAbsDiff(Output(model, ids).select(-1, 0), before.select(-1, 0) + 1) < 1e-5);
    }

    [Fact]
    public void BaseCheckpointLoadsIntoClassifierDroppingThePooler()
    {
        var bare = TinyModels.Create("roberta", ModelTask.Base);
        using var dir = Fixtures.TempDir();
        Write(dir.Path, bare.Config, "RobertaModel", State(bare));
        var loaded = AutoModel.Load(dir.Path, new ModelLoadOptions { Task = ModelTask.SequenceClassification });
        Assert.Equal("RobertaForSequenceClassification", loaded.Model.Architecture);
        Assert.Equal(new[] { "classifier.dense.bias", "classifier.dense.weight", "classifier.out_proj.bias", "classifier.out_proj.weight" },
            loaded.Report.NewlyInitialized.Order());
        Assert.Equal(new[] { "pooler.dense.bias", "pooler.dense.weight" }, loaded.Report.Dropped.Order());
        var ids = TinyModels.RandomIds(2, 6);
        using var _ = no_grad();
        AssertIdentical(bare.call(new ModelInputs { InputIds = ids }).LastHiddenState,
            loaded.Model.call(new ModelInputs { InputIds = ids }).LastHiddenState, "hidden states");
    }

    [Fact]
    public void ConfigDefaultsAreRobertas()
    {
        var config = (BertConfig)TinyModels.Family("roberta").ParseConfig(ConfigReader.Parse("""{"model_type": "roberta", "max_position_embeddings": 514}""", "test"));
        Assert.True(config.IsRoberta);
        Assert.Equal(1, config.PaddingIndex);
        var error = Assert.Throws<ConfigException>(() =>
            TinyModels.Family("roberta").ParseConfig(ConfigReader.Parse("""{"model_type": "roberta", "max_position_embeddings": 2}""", "test")));
        Assert.Equal("max_position_embeddings", error.Field);
    }
}
