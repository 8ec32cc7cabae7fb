using PeftSharp.Models;
using PeftSharp.Tests.Models;
using PeftSharp.Tokenization;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.Prompts;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners.Prompts;

/// <summary>Initialisation of prompt tuning, dimensions taken from the model, and the errors bad configs and files get.</summary>
public class PromptConfigTests
{
    static Tensor Prompt(PeftModel peft, string name = "default") => PromptLearning.Adapter(peft)!.Encoder(name).Prompt().detach();

    static Tensor EmbeddingRows(TransformerModel model, long[] ids)
    {
        using var _ = no_grad();
        return model.InputEmbeddings.call(tensor(ids).unsqueeze(0)).squeeze(0);
    }

    [Theory]
    [InlineData(new long[] { 5, 6, 7 }, new long[] { 5, 6, 7, 5, 6, 7, 5 })]        // shorter: repeated, as PEFT
    [InlineData(new long[] { 5, 6, 7, 8, 9, 10, 11, 12, 13 }, new long[] { 5, 6, 7, 8, 9, 10, 11 })]   // longer: cut
    public void TextInitTakesTheTextsEmbeddingsCutOrRepeated(long[] textIds, long[] expected)
    {
        var model = TinyModels.Create("bert", ModelTask.SequenceClassification);
        var peft = PeftModel.Create(model, new PromptTuningConfig
        {
            NumVirtualTokens = 7, PromptTuningInit = PromptTuningInit.Text, PromptTuningInitText = "a text", InitTokenIds = textIds,
        });
        Assert.True(Prompt(peft).equal(EmbeddingRows(model, expected)).all().item<bool>());
    }

    [Fact]
    public void TextInitTokenizesWithTheModelsTokenizerDirectory()
    {
        string dir = Fixtures.Shared("models", "stories260K-hf");
        var model = AutoModel.Load(dir).Model;
        const string text = "Once upon a time";
        var ids = PretrainedTokenizer.FromDirectory(dir).Encode(text).Ids.Select(i => (long)i).ToArray();
        Assert.True(ids.Length > 2, $"{ids.Length} tokens");
        int count = ids.Length + 3;
        var peft = PeftModel.Create(model, new PromptTuningConfig
        {
            NumVirtualTokens = count, PromptTuningInit = PromptTuningInit.Text, PromptTuningInitText = text, TokenizerNameOrPath = dir,
        });
        var expected = Enumerable.Range(0, count).Select(i => ids[i % ids.Length]).ToArray();
        Assert.True(Prompt(peft).equal(EmbeddingRows(model, expected)).all().item<bool>());
        Assert.Equal(dir, ((PromptTuningConfig)peft.Adapters["default"]).TokenizerNameOrPath);
    }

    [Fact]
    public void SampleVocabInitTakesVocabularyRows()
    {
        var model = TinyModels.Create("gpt2", ModelTask.CausalLM);
        var peft = PeftModel.Create(model, new PromptTuningConfig { NumVirtualTokens = 6, PromptTuningInit = PromptTuningInit.SampleVocab });
        var table = model.named_parameters().Single(p => p.name == "transformer.wte.weight").parameter.detach();
        var prompt = Prompt(peft);
        for (int i = 0; i < 6; i++)
            Assert.True((table - prompt[i]).abs().sum(1).min().item<float>() == 0, $"virtual token {i} is not a vocabulary row");
    }

    [Fact]
    public void RandomInitIsStandardNormalAsNnEmbedding()
    {
        var peft = PeftModel.Create(TinyModels.Create("gpt2", ModelTask.CausalLM), new PromptTuningConfig { NumVirtualTokens = 64 });
        var prompt = Prompt(peft);
        Assert.InRange(prompt.std().item<float>(), 0.9f, 1.1f);
    }

    [Fact]
    public void DimensionsComeFromTheModel()
    {
        var llama = TinyModels.Create("llama", ModelTask.CausalLM);                          // 4 heads of 8, 2 key/value heads
        var prompt = (PromptTuningConfig)PeftModel.Create(llama, new PromptTuningConfig { NumVirtualTokens = 3 }).Adapters["default"];
        Assert.Equal((32, 4, 2, 1), (prompt.TokenDim, prompt.NumAttentionHeads, prompt.NumLayers, prompt.NumTransformerSubmodules));
        var prefix = (PrefixTuningConfig)PeftModel.Create(TinyModels.Create("llama", ModelTask.CausalLM), new PrefixTuningConfig { NumVirtualTokens = 3 }).Adapters["default"];
        Assert.Equal((16, 2, 2, 16), (prefix.TokenDim, prefix.NumAttentionHeads, prefix.NumLayers, prefix.EncoderHiddenSize));
        var pTuning = (PTuningConfig)PeftModel.Create(TinyModels.Create("bert", ModelTask.Base), new PTuningConfig { NumVirtualTokens = 3 }).Adapters["default"];
        Assert.Equal((32, 32, "FEATURE_EXTRACTION"), (pTuning.TokenDim, pTuning.EncoderHiddenSize, pTuning.TaskType));
    }

    [Fact]
    public void ContextLeftIsTheModelsPositionsMinusTheVirtualTokens()
    {
        var peft = PeftModel.Create(TinyModels.Create("gpt2", ModelTask.CausalLM), new PrefixTuningConfig { NumVirtualTokens = 10 });
        Assert.Equal(64 - 10, PromptLearning.ContextLeft(peft, "default"));
        Assert.Equal(10, PromptLearning.PositionsUsed(peft.Adapters["default"]));
        Assert.Equal(0, PromptLearning.PositionsUsed(new LoraConfigForTest()));
    }

    sealed record LoraConfigForTest : PeftConfig
    {
        public override string PeftType => "TEST";
        protected override void WriteFields(System.Text.Json.Nodes.JsonObject json) { }
    }

    public static IEnumerable<object[]> BadConfigs() => new[]
    {
        new object[] { new PromptTuningConfig { NumVirtualTokens = 0 }, "num_virtual_tokens", "positive" },
        new object[] { new PrefixTuningConfig { NumVirtualTokens = -2 }, "num_virtual_tokens", "positive" },
        new object[] { new PTuningConfig { NumVirtualTokens = 4, NumTransformerSubmodules = 2 }, "num_transformer_submodules", "encoder-decoder" },
        new object[] { new PromptTuningConfig { NumVirtualTokens = 4, PromptTuningInit = PromptTuningInit.Text }, "prompt_tuning_init_text", "needs the text" },
        new object[] { new PromptTuningConfig { NumVirtualTokens = 4, PromptTuningInit = PromptTuningInit.Text, PromptTuningInitText = "x" }, "tokenizer_name_or_path", "tokenizer" },
        new object[] { new PromptTuningConfig { NumVirtualTokens = 4, PromptTuningInit = PromptTuningInit.Text, PromptTuningInitText = "x", TokenizerNameOrPath = "gpt2" }, "tokenizer_name_or_path", "not a local tokenizer directory" },
        new object[] { new PromptTuningConfig { NumVirtualTokens = 4, PromptTuningInit = PromptTuningInit.Text, PromptTuningInitText = "x", InitTokenIds = new long[] { 3, 99 } }, "prompt_tuning_init_text", "outside" },
        new object[] { new PromptTuningConfig { NumVirtualTokens = 4, TokenDim = 48 }, "token_dim", "32 wide" },
        new object[] { new PrefixTuningConfig { NumVirtualTokens = 4, NumLayers = 3 }, "num_layers", "KeyValueShape" },
        new object[] { new PrefixTuningConfig { NumVirtualTokens = 4, NumAttentionHeads = 4, TokenDim = 32 }, "num_attention_heads", "2 key/value heads x 8" },
        new object[] { new PrefixTuningConfig { NumVirtualTokens = 4, InitWeights = "ones" }, "init_weights", "zero" },
        new object[] { new PTuningConfig { NumVirtualTokens = 4, EncoderDropout = 1.5 }, "encoder_dropout", "[0, 1)" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void BadConfigsNameTheField(PeftConfig config, string field, string message)
    {
        var model = TinyModels.Create("llama", ModelTask.CausalLM);
        if (config is PromptTuningConfig or PTuningConfig && field is "token_dim") model = TinyModels.Create("gpt2", ModelTask.CausalLM);
        var error = Assert.Throws<ConfigException>(() => PeftModel.Create(model, config));
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void PrefixFileOnAModelWithOtherKeyValueShapesSaysSo()
    {
        // gpt2-prefix was made for 3 layers of 4 heads x 12; a tiny GPT-2 has 2 layers of 4 heads x 8.
        var error = Assert.Throws<ConfigException>(() => PeftModel.Load(TinyModels.Create("gpt2", ModelTask.CausalLM), Fixtures.Shared("reference", "gpt2-prefix")));
        Assert.Equal("num_layers", error.Field);
        Assert.Contains("KeyValueShape", error.Message);
        // A llama of the reference's depth but with grouped-query attention: the heads disagree.
        using var dir = Fixtures.TempDir();
        foreach (string file in Directory.GetFiles(Fixtures.Shared("reference", "gpt2-prefix"))) File.Copy(file, dir.File(Path.GetFileName(file)));
        File.WriteAllText(dir.File(AdapterFiles.ConfigFile), File.ReadAllText(dir.File(AdapterFiles.ConfigFile)).Replace("\"num_layers\": 3", "\"num_layers\": 2"));
        var llama = Assert.Throws<ConfigException>(() => PeftModel.Load(TinyModels.Create("llama", ModelTask.CausalLM), dir.Path));
        Assert.Equal("num_attention_heads", llama.Field);
        Assert.Contains("2 key/value heads x 8", llama.Message);
    }

    [Fact]
    public void FileWhosePromptHasAnotherShapeNamesBothShapes()
    {
        var peft = PromptTestKit.Create("prefix", "gpt2", train: false);
        using var dir = Fixtures.TempDir();
        peft.SaveAdapter(dir.Path);
        var tensors = Fixtures.ReadTensors(dir.File(AdapterFiles.WeightsFile));
        PeftSharp.IO.SafetensorsWriter.Save(dir.File(AdapterFiles.WeightsFile),
            new Dictionary<string, Tensor> { ["prompt_embeddings"] = tensors["prompt_embeddings"].narrow(1, 0, 100) }, new Dictionary<string, string>());
        var error = Assert.Throws<WeightMismatchException>(() => PeftModel.Load(TinyModels.Create("gpt2", ModelTask.CausalLM), dir.Path));
        Assert.Contains("file has [4, 100], this adapter expects [4, 128]", error.Message);
        Assert.Contains("2 layers x 2 x 4 key/value heads x 8", error.Message);
    }

    [Fact]
    public void MergingIsRefusedClearly()
    {
        var peft = PromptTestKit.Create("prefix-projection", "gpt2", train: false);
        var merge = Assert.Throws<InvalidOperationException>(() => peft.Merge());
        Assert.Contains("cannot be merged", merge.Message);
        Assert.Throws<InvalidOperationException>(() => peft.MergeAndUnload());
        var unload = Assert.Throws<InvalidOperationException>(() => peft.Unload());
        Assert.Contains("delete its adapters first", unload.Message);
    }

    [Fact]
    public void TwoActivePromptAdaptersAreRefused()
    {
        var peft = PromptTestKit.Create("prompt-tuning", "gpt2", train: false);
        peft.AddAdapter("other", PromptTestKit.Config("prefix"));
        peft.SetAdapter("default", "other");
        var error = Assert.Throws<InvalidOperationException>(() => PromptTestKit.Output(peft, TinyModels.RandomIds(1, 4)));
        Assert.Contains("one is applied at a time", error.Message);
    }

    [Fact]
    public void PeftConfigFieldsRoundTrip()
    {
        var config = new PTuningConfig
        {
            NumVirtualTokens = 9, TokenDim = 32, NumAttentionHeads = 4, NumLayers = 2, NumTransformerSubmodules = 1,
            EncoderReparameterizationType = PromptEncoderReparameterization.Lstm, EncoderHiddenSize = 12, EncoderNumLayers = 3, EncoderDropout = 0.2,
            TaskType = "CAUSAL_LM",
        };
        var read = PTuningConfig.Read(new ConfigReader(config.ToJson(), "test"));
        Assert.Equal(config with { IgnoredFields = read.IgnoredFields }, read);
        Assert.Empty(read.IgnoredFields);
        var text = new PromptTuningConfig { NumVirtualTokens = 3, PromptTuningInit = PromptTuningInit.Text, PromptTuningInitText = "hi", TokenizerNameOrPath = "gpt2" };
        var json = text.ToJson();
        Assert.Equal("TEXT", (string)json["prompt_tuning_init"]!);
        var readText = PromptTuningConfig.Read(new ConfigReader(json, "test"));
        Assert.Equal(text with { IgnoredFields = readText.IgnoredFields }, readText);
    }
}
