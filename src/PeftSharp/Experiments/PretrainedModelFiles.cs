using System.Text.Json;
using System.Text.Json.Nodes;
using PeftSharp.IO;
using PeftSharp.Models;
using PeftSharp.Models.Bert;
using static TorchSharp.torch;

namespace PeftSharp.Experiments;

/// <summary>
/// Writes a pretrained model as a Hugging Face directory (config.json + model.safetensors) in bfloat16, which halves the
/// files and is what fine-tuning on this CPU computes in anyway. A BERT encoder pretrained by masked language modelling
/// alone has no trained pooler (BERT's pooler learns from next-sentence prediction, which is not run here); an identity
/// pooler (W = I, b = 0) is saved with it, so a sequence classifier built on the checkpoint sees tanh(h_[CLS]) rather
/// than a random projection of it, and every fine-tuning method starts from the same, pretrained-only features.
/// </summary>
public static class PretrainedModelFiles
{
    /// <summary>The dtype the weights are saved in.</summary>
    public static readonly ScalarType SavedDType = ScalarType.BFloat16;

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes <paramref name="model"/> into <paramref name="directory"/>; returns the config as written.</summary>
    public static JsonObject Save(TransformerModel model, string directory)
    {
        Directory.CreateDirectory(directory);
        using var scope = NewDisposeScope();
        var tensors = ModelSaver.StateToSave(model);
        if (model is BertForMaskedLM && model.BaseModelPrefix is { } prefix)
        {
            int hidden = model.Config.HiddenSize;
            tensors[$"{prefix}.pooler.dense.weight"] = eye(hidden, dtype: ScalarType.Float32);
            tensors[$"{prefix}.pooler.dense.bias"] = zeros(hidden, dtype: ScalarType.Float32);
        }
        var converted = tensors.OrderBy(t => t.Key, StringComparer.Ordinal)
            .Select(t => KeyValuePair.Create(t.Key, t.Value.is_floating_point() ? t.Value.detach().to(SavedDType) : t.Value.detach()))
            .ToList();
        SafetensorsWriter.Save(Path.Combine(directory, "model.safetensors"), converted, new Dictionary<string, string> { ["format"] = "pt" });
        var config = model.Config.ToJson(model.Architecture, SavedDType);
        AtomicFile.WriteText(Path.Combine(directory, "config.json"), config.ToJsonString(Indented));
        return config;
    }
}
