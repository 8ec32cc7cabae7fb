using PeftSharp.IO;
using PeftSharp.Models;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Models;

/// <summary>Hand-made checkpoints for loader tests: any set of tensor names, as real (old, foreign) checkpoints have.</summary>
public static class CheckpointFiles
{
    /// <summary>Writes config.json (naming <paramref name="architecture"/>) and a model.safetensors holding exactly <paramref name="tensors"/>.</summary>
    public static void Write(string directory, ModelConfig config, string architecture, IReadOnlyDictionary<string, Tensor> tensors)
    {
        SafetensorsWriter.Save(Path.Combine(directory, "model.safetensors"), tensors);
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJson(architecture, ScalarType.Float32).ToJsonString());
    }

    /// <summary>The tensors a checkpoint of <paramref name="model"/> holds (Hugging Face keys, tied ones left out).</summary>
    public static Dictionary<string, Tensor> State(TransformerModel model) => ModelSaver.StateToSave(model);

    /// <summary><paramref name="tensors"/> with every key passed through <paramref name="rename"/>.</summary>
    public static Dictionary<string, Tensor> Renamed(IReadOnlyDictionary<string, Tensor> tensors, Func<string, string> rename) =>
        tensors.ToDictionary(t => rename(t.Key), t => t.Value);

    /// <summary>Drops <paramref name="prefix"/> from keys that start with it (a checkpoint of the bare transformer).</summary>
    public static Dictionary<string, Tensor> WithoutPrefix(IReadOnlyDictionary<string, Tensor> tensors, string prefix) =>
        Renamed(tensors, k => k.StartsWith(prefix + ".", StringComparison.Ordinal) ? k[(prefix.Length + 1)..] : k);

    /// <summary>Outputs for ids [B, T]: logits if the model has a head, else hidden states.</summary>
    public static Tensor Output(TransformerModel model, Tensor ids)
    {
        using var _ = no_grad();
        var outputs = model.call(new ModelInputs { InputIds = ids });
        return outputs.Logits ?? outputs.LastHiddenState;
    }

    /// <summary>Asserts two tensors are equal element for element.</summary>
    public static void AssertIdentical(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.equal(actual).all().item<bool>(), $"{what}: differs by {Fixtures.MaxAbsDiff(expected, actual)}");
    }

    /// <summary>Tensor <paramref name="key"/> of a model's state (the live tensor: changing it changes the model).</summary>
    public static Tensor Live(TransformerModel model, string key) =>
        model.state_dict().TryGetValue(key, out var tensor) ? tensor : throw new KeyNotFoundException($"{model.Architecture} has no tensor '{key}'");
}
