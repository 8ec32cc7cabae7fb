using PeftSharp.Tuners.Common;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Lora;

/// <summary>
/// Saves a PiSSA or OLoRA adapter as a plain LoRA adapter for the ORIGINAL base model, as Hugging Face PEFT's
/// save_pretrained(path_initial_model_for_weight_conversion=...) does. Those inits replace W by the residual
/// W_res = W - s B0 A0; after training the layer computes W_res + s B A = W + s (B A - B0 A0) = W + s B' A' with
/// A' = [A; A0] ([2r, in]) and B' = [B, -B0] ([out, 2r]). Rank 2r with lora_alpha doubled (times sqrt 2 with rsLoRA, whose
/// scaling is alpha / sqrt r) keeps s, so the file holds a rank-2r LoRA with init_lora_weights true that any PEFT loads
/// onto the unmodified base. A DoRA magnitude carries over unchanged: W + s B' A' is the very matrix it was trained with.
/// </summary>
/// <remarks>
/// PEFT refuses the conversion with rsLoRA and rank/alpha patterns together (it doubles alpha_pattern values); PeftSharp
/// scales alpha_pattern values as alpha, which keeps every layer's scaling. PEFT's conversion also keeps only lora_A/lora_B
/// tensors; PeftSharp keeps the adapter's other tensors (modules_to_save copies, DoRA magnitudes) as they are.
/// </remarks>
public static class PissaConversion
{
    /// <summary>
    /// Rewrites the lora_A/lora_B tensors of adapter <paramref name="name"/> in <paramref name="tensors"/> (keyed by file key)
    /// and returns the config to save with them; adapters whose init left the base alone are returned unchanged.
    /// </summary>
    public static PeftConfig Convert(LoraConfig config, PeftModel peft, string name, Dictionary<string, Tensor> tensors)
    {
        if (!LoraInit.ChangesBaseWeight(config.InitLoraWeights)) return config;
        foreach (var (path, module) in peft.AdapterModules())
        {
            if (module is not LoraLayer layer || !layer.AdapterNames.Contains(name)) continue;
            var (a0, b0) = layer.InitialFactors(name)
                ?? throw new InvalidOperationException($"'{path}' has no initial PiSSA/OLoRA factors for adapter '{name}', so it cannot be saved for the original base");
            string keyA = AdapterFiles.FileKey(path, "lora_A.weight"), keyB = AdapterFiles.FileKey(path, "lora_B.weight");
            tensors[keyA] = cat(new[] { tensors[keyA], a0.to(tensors[keyA].dtype) }, 0);
            tensors[keyB] = cat(new[] { tensors[keyB], -b0.to(tensors[keyB].dtype) }, 1);
        }
        double alphaFactor = config.UseRsLora ? Math.Sqrt(2) : 2;
        return config with
        {
            R = 2 * config.R,
            LoraAlpha = alphaFactor * config.LoraAlpha,
            RankPattern = config.RankPattern.ToDictionary(p => p.Key, p => 2 * p.Value),
            AlphaPattern = config.AlphaPattern.ToDictionary(p => p.Key, p => alphaFactor * p.Value),
            InitLoraWeights = "true",
        };
    }
}
