using PeftSharp.Models;
using PeftSharp.Modules;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Adapters;
using PeftSharp.Tuners.Common;
using static PeftSharp.Tests.Tuners.Adapters.AdapterTesting;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners.Adapters;

/// <summary>
/// The MAD-X mechanics on tiny BERT: two "domain" language adapters trained by masked LM on disjoint token ranges, a
/// task adapter trained stacked on one of them, then swapped onto the other and onto none.
/// </summary>
public class MadXTests
{
    const long MaskId = 1;

    /// <summary>Token ids of one "domain": a range of the tiny vocabulary.</summary>
    static Tensor DomainIds(long low, long high, ulong seed) =>
        randint(low, high, new long[] { 4, 8 }, ScalarType.Int64, generator: new Generator(seed));

    /// <summary>Masked-LM steps (a quarter of the tokens masked and predicted); returns the first and last loss.</summary>
    static (double First, double Last) TrainMaskedLm(PeftModel peft, Tensor ids, int steps = 15)
    {
        peft.train();
        var optimizer = optim.AdamW(peft.parameters().Where(p => p.requires_grad).ToList(), lr: 0.01);
        var masked = rand(ids.shape, generator: new Generator(11)) < 0.25;
        var inputs = where(masked, full_like(ids, MaskId), ids);
        var labels = where(masked, ids, full_like(ids, -100));
        var losses = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            optimizer.zero_grad();
            var logits = peft.call(new ModelInputs { InputIds = inputs }).Logits!;
            var loss = nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index: -100);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        peft.eval();
        return (losses[0], losses[^1]);
    }

    /// <summary>A sequence classifier whose encoder is the masked-LM model's (the same base model with another head).</summary>
    static TransformerModel TaskModel(TransformerModel maskedLm)
    {
        var source = maskedLm.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var model = TinyModels.Create("bert", ModelTask.SequenceClassification, seed: 21);
        using var _ = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
            if (source.TryGetValue(name, out var value) && value.shape.SequenceEqual(parameter.shape)) parameter.copy_(value);
        return model;
    }

    [Fact]
    public void LanguageAdaptersTrainByMaskedLmAndTaskAdaptersStackSwapAndReload()
    {
        using var dir = Fixtures.TempDir();
        var maskedLm = TinyModels.Create("bert", ModelTask.MaskedLM);
        var baseWeights = Snapshot(maskedLm);

        // Step 1: a language adapter per domain, trained by masked LM with its invertible adapter.
        var lm = PeftModel.Create(maskedLm, MadX.LanguageAdapterConfig(), "brown");
        Assert.IsType<InverseAdapterHandler>(Sites(lm.Model).Single(s => s.Kind == SiteKind.HeadInput).Handler(InvertibleAdapterLayer.HandlerName));
        var before = Snapshot(lm);
        var (first, last) = TrainMaskedLm(lm, DomainIds(3, 30, 1));
        Assert.True(last < first, $"masked-LM loss did not fall ({first} -> {last})");
        var changed = Changed(lm, before);
        Assert.Contains(changed, n => n.Contains("invertible_adapters.brown.F."));
        Assert.Contains(changed, n => n.Contains("bottleneck.adapters.brown.adapter_up"));
        Assert.All(changed, n => Assert.Contains("brown", n.Split('.')));
        lm.SaveAdapter(Path.Combine(dir.Path, "brown"), "brown");

        lm.AddLanguageAdapter("sotu");
        Assert.Equal(new[] { "sotu" }, lm.ActiveAdapters);
        TrainMaskedLm(lm, DomainIds(30, 60, 2));
        lm.SaveAdapter(Path.Combine(dir.Path, "sotu"), "sotu");
        Assert.Empty(Changed(maskedLm, baseWeights));

        // Step 2: the task model loads both language adapters (no head copies for them) and trains a task adapter on brown.
        var task = PeftModel.Load(TaskModel(maskedLm), Path.Combine(dir.Path, "brown"), "brown");
        task.LoadAdapter(Path.Combine(dir.Path, "sotu"), "sotu");
        Assert.DoesNotContain(task.named_parameters(), p => p.name.StartsWith("base_model.model.classifier.overrides.brown"));
        task.AddTaskAdapter("topic", "brown");
        Assert.Equal("Stack[brown, topic]", task.ActiveComposition()!.ToString());
        var ids = DomainIds(3, 30, 3);
        before = Snapshot(task);
        TrainClassifier(task, ids);
        changed = Changed(task, before);
        Assert.Contains(changed, n => n.Contains("bottleneck.adapters.topic."));
        Assert.Contains(changed, n => n.Contains("classifier.overrides.topic."));
        Assert.All(changed, n => Assert.Contains("topic", n.Split('.')));
        var own = Output(task, ids);

        // Step 3: swap the language adapter under the same task adapter, or drop it.
        task.UseLanguageAdapter("topic", "sotu");
        Assert.Equal("Stack[sotu, topic]", task.ActiveComposition()!.ToString());
        var swapped = Output(task, ids);
        task.UseLanguageAdapter("topic", null);
        var alone = Output(task, ids);
        Assert.True(Fixtures.MaxAbsDiff(own, swapped) > 1e-4, "swapping the language adapter must change the outputs");
        Assert.True(Fixtures.MaxAbsDiff(own, alone) > 1e-4 && Fixtures.MaxAbsDiff(swapped, alone) > 1e-4);
        Assert.DoesNotContain(task.parameters(), p => p.requires_grad);

        // The task adapter saves on its own and runs over a language adapter loaded beside it.
        task.SaveAdapter(Path.Combine(dir.Path, "topic"), "topic");
        var reloaded = PeftModel.Load(TaskModel(maskedLm), Path.Combine(dir.Path, "sotu"), "sotu");
        reloaded.LoadAdapter(Path.Combine(dir.Path, "topic"), "topic");
        reloaded.UseLanguageAdapter("topic", "sotu");
        Assert.True(Fixtures.MaxAbsDiff(Output(reloaded, ids), swapped) < 1e-6);
    }

    static void TrainClassifier(PeftModel peft, Tensor ids)
    {
        peft.train();
        var optimizer = optim.AdamW(peft.parameters().Where(p => p.requires_grad).ToList(), lr: 0.01);
        var labels = tensor(new long[] { 0, 1, 2, 1 });
        for (int i = 0; i < 5; i++)
        {
            optimizer.zero_grad();
            var logits = peft.call(new ModelInputs { InputIds = ids }).Logits!;
            nn.functional.cross_entropy(logits, labels).backward();
            optimizer.step();
        }
        peft.eval();
    }

    [Fact]
    public void TaskAdaptersNeedABottleneckLanguageAdapterAndNoInvertibleOfTheirOwn()
    {
        var peft = PeftModel.Create(TinyModels.Create("roberta", ModelTask.SequenceClassification), MadX.LanguageAdapterConfig(), "en");
        peft.AddAdapter("lora", new PeftSharp.Tuners.Lora.LoraConfig());
        var error = Assert.Throws<ConfigException>(() => peft.AddTaskAdapter("task", "en", MadX.TaskAdapterConfig() with { InvAdapter = "nice" }));
        Assert.Equal("inv_adapter", error.Field);
        Assert.Equal("language", Assert.Throws<ArgumentException>(() => peft.AddTaskAdapter("task", "de")).ParamName);
        Assert.Equal("language", Assert.Throws<ArgumentException>(() => peft.AddTaskAdapter("task", "lora")).ParamName);
        Assert.DoesNotContain("task", peft.Adapters.Keys);
    }
}
