using PeftSharp.Models;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Prompts;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners.Prompts;

/// <summary>P-tuning v2: deep prompts (prefixes in every layer) train encoders for classification and token classification.</summary>
public class PTuningV2Tests
{
    [Theory]
    [InlineData("bert", ModelTask.TokenClassification)]
    [InlineData("distilbert", ModelTask.TokenClassification)]
    [InlineData("roberta", ModelTask.SequenceClassification)]
    [InlineData("bert", ModelTask.SequenceClassification)]
    public void DeepPromptsLearnATaskWithTheBaseFrozen(string modelType, ModelTask task)
    {
        manual_seed(2);
        var model = TinyModels.Create(modelType, task);
        var frozen = model.named_parameters().Select(p => (p.name, Live: p.parameter, Copy: p.parameter.detach().clone())).ToList();
        var peft = PeftModel.Create(model, PrefixTuningConfig.PTuningV2(6));
        Assert.Equal(task == ModelTask.TokenClassification ? "TOKEN_CLS" : "SEQ_CLS", peft.Adapters["default"].TaskType);
        var ids = TinyModels.RandomIds(16, 8, seed: 21);
        // Token labels: the id's parity; sequence labels: the parity of the first token, a rule only attention can carry.
        var labels = task == ModelTask.TokenClassification ? ids.remainder(2) : ids[.., 0].remainder(2);
        double Loss()
        {
            var logits = peft.call(new ModelInputs { InputIds = ids }).Logits!;
            return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), labels.reshape(-1)).item<float>();
        }
        double before;
        using (no_grad()) before = Loss();
        var optimizer = optim.AdamW(peft.parameters().Where(p => p.requires_grad).ToList(), lr: 0.02);
        peft.train();
        for (int step = 0; step < 60; step++)
        {
            optimizer.zero_grad();
            var logits = peft.call(new ModelInputs { InputIds = ids }).Logits!;
            nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), labels.reshape(-1)).backward();
            optimizer.step();
        }
        peft.eval();
        double after;
        using (no_grad()) after = Loss();
        Assert.True(after < 0.7 * before, $"loss {before} -> {after}");
        // The transformer's own weights did not move (the head trains as a per-adapter copy, as PEFT's modules_to_save).
        foreach (var (name, live, copy) in frozen) Assert.True(copy.equal(live).all().item<bool>(), $"{name} changed");
    }
}
