using static TorchSharp.torch;

namespace PeftSharp.Tuners.Adapters;

/// <summary>A fusion setup as a unit: saving it with the adapters it fuses, and its training regulariser.</summary>
public static class AdapterFusion
{
    /// <summary>
    /// Saves fusion <paramref name="fusion"/> in <paramref name="directory"/> (adapter_config.json with peft_type
    /// "FUSION" and its own weights) and each fused adapter in &lt;directory&gt;/&lt;adapter&gt;/, so that
    /// <see cref="PeftModel.Load"/> or <see cref="PeftModel.LoadAdapter"/> of the directory restores the whole setup.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="fusion"/> is not a fusion adapter.</exception>
    public static void SaveFusion(this PeftModel peft, string directory, string fusion)
    {
        var config = Fusion(peft, fusion);
        foreach (string adapter in config.Adapters)
            if (adapter.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || adapter is "." or "..")
                throw new ArgumentException($"adapter '{adapter}' cannot name a subdirectory", nameof(fusion));
        peft.SaveAdapter(directory, fusion);
        foreach (string adapter in config.Adapters) peft.SaveAdapter(Path.Combine(directory, adapter), adapter);
    }

    /// <summary>
    /// AdapterHub's fusion regulariser: 0.01 sum over sites of ||I - V||_F^2, V the fusion's value projection (zero
    /// without one). Add it to the task loss while training a fusion whose config asks for regularization.
    /// </summary>
    public static Tensor FusionRegularizationLoss(this PeftModel peft, string fusion)
    {
        Fusion(peft, fusion);
        var loss = zeros(1, ScalarType.Float32).squeeze();
        foreach (var layer in peft.Model.named_modules().Select(m => m.module).OfType<BottleneckAdapterLayer>())
        {
            if (!layer.Holds(fusion) || layer.Fusion(fusion).Value is not { } value) continue;
            var identity = eye(value.weight!.shape[0], dtype: value.weight.dtype, device: value.weight.device);
            loss = loss + 0.01 * (identity - value.weight).pow(2).sum();
        }
        return loss;
    }

    static FusionConfig Fusion(PeftModel peft, string fusion) =>
        peft.Adapters.TryGetValue(fusion, out var config) && config is FusionConfig fusionConfig
            ? fusionConfig
            : throw new ArgumentException($"'{fusion}' is not a fusion adapter (adapters: {string.Join(", ", peft.Adapters.Keys)})", nameof(fusion));
}
