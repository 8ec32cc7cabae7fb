using System.Reflection;
using PeftSharp.Models;
using PeftSharp.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Models;

/// <summary>
/// What fine-tuning methods rely on in every family: module paths that real Python PEFT adapters name, one swappable
/// field per parameterised module, adapter sites on the forward path.
/// </summary>
public class FamilyStructureTests
{
    [Theory]
    [MemberData(nameof(TinyModels.Cases), MemberType = typeof(TinyModels))]
    public void EveryParameterisedModuleIsASwappableFieldOfItsParent(string modelType, ModelTask task)
    {
        // Methods replace a module by path: register_module on the parent and set the field of the same name.
        var model = TinyModels.Create(modelType, task);
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (var (path, module) in modules)
        {
            if (!module.named_parameters(recurse: false).Any()) continue;
            int dot = path.LastIndexOf('.');
            var parent = dot < 0 ? model : modules[path[..dot]];
            string name = path[(dot + 1)..];
            if (parent is ModuleList<nn.Module> || parent.GetType().Name.StartsWith("ModuleList", StringComparison.Ordinal)) continue;
            var field = FieldOf(parent.GetType(), name);
            Assert.True(field is not null, $"{modelType} {task}: {parent.GetType().Name} has no field '{name}' for module '{path}'");
            Assert.False(field!.IsInitOnly, $"{modelType} {task}: field '{path}' is readonly");
            Assert.Same(module, field.GetValue(parent));
            bool leaf = !module.named_children().Any();                          // Linear, Conv1D, LayerNorm, Embedding, ...
            if (leaf && !ReferenceEquals(module, model.InputEmbeddings))
                Assert.True(field.FieldType == typeof(nn.Module<Tensor, Tensor>), $"{modelType} {task}: field '{path}' is typed {field.FieldType.Name}, not nn.Module<Tensor, Tensor>");
        }
        // No stray buffers: the state is the parameters. (named_parameters lists a tied parameter under both names.)
        var tied = model.TiedParameters.Keys;
        Assert.Equal(model.named_parameters().Select(p => p.name).Except(tied).Order(), model.state_dict().Keys.Except(tied).Order());
    }

    [Theory]
    [MemberData(nameof(TinyModels.Cases), MemberType = typeof(TinyModels))]
    public void EveryAdapterSiteIsOnTheForwardPath(string modelType, ModelTask task)
    {
        var model = TinyModels.Create(modelType, task);
        var sites = model.named_modules().Where(m => m.module is AdapterSite).Select(m => (m.name, Site: (AdapterSite)m.module)).ToList();
        int layers = model.LayerCount;
        Assert.Equal(Enumerable.Range(0, layers), sites.Where(s => s.Site.Kind == SiteKind.AttentionOutput).Select(s => s.Site.LayerIndex!.Value).Order());
        Assert.Equal(Enumerable.Range(0, layers), sites.Where(s => s.Site.Kind == SiteKind.FeedForwardOutput).Select(s => s.Site.LayerIndex!.Value).Order());
        Assert.Single(sites, s => s.Site.Kind == SiteKind.Embeddings);
        bool languageModel = task is ModelTask.CausalLM or ModelTask.MaskedLM;
        Assert.Equal(languageModel ? 1 : 0, sites.Count(s => s.Site.Kind == SiteKind.HeadInput));
        Assert.All(sites, s => Assert.EndsWith(s.Site.Kind switch
        {
            SiteKind.AttentionOutput => "attention_adapters",
            SiteKind.FeedForwardOutput => "feed_forward_adapters",
            SiteKind.Embeddings => "embedding_adapters",
            _ => "head_adapters",
        }, s.name));

        var ids = TinyModels.RandomIds(2, 5);
        var before = CheckpointFiles.Output(model, ids);
        var probes = sites.Select(s => { var probe = new Probe(); s.Site.Attach("probe", probe); return (s.name, probe); }).ToList();
        var after = CheckpointFiles.Output(model, ids);
        Assert.All(probes, p => Assert.True(p.probe.Calls == 1, $"{modelType} {task}: site {p.name} ran {p.probe.Calls} times"));
        Assert.True(Fixtures.MaxAbsDiff(before, after) > 1e-4, "changing every sublayer output changed nothing");
        if (!model.IsCausal)
        {
            // Post-LN encoders: the first attention sublayer consumes the (adapted) embeddings.
            var embeddings = probes.Single(p => p.name.EndsWith("embedding_adapters", StringComparison.Ordinal)).probe;
            var firstAttention = probes.Single(p => p.name.EndsWith(".0.attention.output.attention_adapters", StringComparison.Ordinal)
                || p.name.EndsWith(".0.attention_adapters", StringComparison.Ordinal)).probe;
            Assert.True(embeddings.LastResult!.equal(firstAttention.LastInput!).all().item<bool>());
        }
    }

    [Theory]
    [InlineData("gpt2", 64)]
    [InlineData("bert", 64)]
    [InlineData("roberta", 64)]                                    // 66 rows, real tokens from padding_idx + 1 = 2
    [InlineData("distilbert", 64)]
    public void InputsLongerThanThePositionTableFailClearly(string modelType, int longest)
    {
        var model = TinyModels.Create(modelType, ModelTask.Base);
        using var _ = no_grad();
        model.call(new ModelInputs { InputIds = TinyModels.RandomIds(1, longest) });
        var error = Assert.Throws<ArgumentException>(() => model.call(new ModelInputs { InputIds = TinyModels.RandomIds(1, longest + 1) }));
        Assert.Contains("max_position_embeddings", error.Message);
    }

    public static IEnumerable<object[]> RealAdapters() => new[]
    {
        new object[] { "adapters/gpt2-lora-causal-lm", """{"model_type": "gpt2"}""", ModelTask.CausalLM },
        new object[] { "adapters/bert-base-lora-seq-cls", """{"model_type": "bert", "num_labels": 2}""", ModelTask.SequenceClassification },
        new object[] { "adapters/distilbert-lora-seq-cls", """{"model_type": "distilbert", "num_labels": 6}""", ModelTask.SequenceClassification },
        new object[] { "reference/gpt2-lora", null!, ModelTask.CausalLM },
        new object[] { "reference/gpt2-ia3", null!, ModelTask.CausalLM },
        new object[] { "reference/bert-lora", null!, ModelTask.SequenceClassification },
    };

    [Theory]
    [MemberData(nameof(RealAdapters))]
    public void PeftAdaptersNameOurModulesWithTheirShapes(string adapter, string? configJson, ModelTask task)
    {
        // Adapters written by Python PEFT for the real models: every LoRA/IA3 tensor must name one of our modules and fit
        // its in/out features (Conv1D stores [in, out]); every other tensor (modules_to_save) must be one of our tensors.
        var config = configJson is null
            ? AutoModel.ReadConfig(Fixtures.Shared("reference", adapter.Split('/')[1].Split('-')[0])).Config
            : ModelFamilies.ForModelType(configJson.Contains("\"gpt2\"") ? "gpt2" : configJson.Contains("distilbert") ? "distilbert" : "bert", "test")
                .ParseConfig(ConfigReader.Parse(configJson, "test"));
        var family = ModelFamilies.ForModelType(config.ModelType, "test");
        using var model = family.Create(config, task, new LayerFactory(ScalarType.Float32, META, initialize: false));   // shapes only
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        var state = model.state_dict();
        var tensors = Fixtures.ReadTensors(Fixtures.Shared(adapter, "adapter_model.safetensors"));
        Assert.NotEmpty(tensors);
        foreach (var (stored, tensor) in tensors)
        {
            Assert.StartsWith("base_model.model.", stored);
            string key = stored["base_model.model.".Length..];
            string? suffix = new[] { ".lora_A.weight", ".lora_B.weight", ".ia3_l" }.FirstOrDefault(s => key.EndsWith(s, StringComparison.Ordinal));
            if (suffix is null)
            {
                Assert.True(state.ContainsKey(key), $"{adapter}: '{key}' is not a tensor of {model.Architecture}");
                Assert.Equal(state[key].shape, tensor.shape);
                continue;
            }
            string path = key[..^suffix.Length];
            Assert.True(modules.ContainsKey(path), $"{adapter}: '{path}' is not a module of {model.Architecture}");
            var (inFeatures, outFeatures) = modules[path] switch
            {
                Conv1D conv => (conv.InFeatures, conv.OutFeatures),
                Linear linear => (linear.in_features, linear.out_features),
                var other => throw new InvalidOperationException($"{path} is a {other.GetType().Name}"),
            };
            switch (suffix)
            {
                case ".lora_A.weight": Assert.Equal(inFeatures, tensor.shape[1]); break;
                case ".lora_B.weight": Assert.Equal(outFeatures, tensor.shape[0]); break;
                default: Assert.True(tensor.shape.SequenceEqual(new[] { outFeatures, 1L }) || tensor.shape.SequenceEqual(new[] { 1L, inFeatures }), $"{key}: [{string.Join(", ", tensor.shape)}]"); break;
            }
        }
    }

    static FieldInfo? FieldOf(Type type, string name)
    {
        for (var t = type; t is not null; t = t.BaseType)
            if (t.GetField(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly) is { } field) return field;
        return null;
    }

    /// <summary>
    /// Counts its calls, checks shapes, and mixes features of the sublayer output (a scalar change would be invisible
    /// to pre-norm models, whose norms undo a uniform rescaling of the whole residual stream).
    /// </summary>
    sealed class Probe : nn.Module<Tensor, Tensor, Tensor>
    {
        public Probe() : base(nameof(Probe)) { }

        public int Calls { get; private set; }
        public Tensor? LastInput { get; private set; }
        public Tensor? LastResult { get; private set; }

        public override Tensor forward(Tensor output, Tensor input)
        {
            Calls++;
            Assert.Equal(input.shape, output.shape);
            var result = output + output.roll(1, -1);
            LastInput = input.detach().clone().DetachFromDisposeScope();
            LastResult = result.detach().clone().DetachFromDisposeScope();
            return result;
        }
    }
}
