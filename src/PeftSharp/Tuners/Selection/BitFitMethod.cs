using PeftSharp.Models;
using PeftSharp.Modules;
using PeftSharp.Tuners.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Selection;

/// <summary>Attaches BitFit adapters: per-adapter copies of the chosen biases.</summary>
public sealed class BitFitMethod : PeftMethod
{
    public override string PeftType => "BITFIT";
    public override string Description => "BitFit: train only the bias terms, all or chosen groups (Ben Zaken et al. 2022)";

    public override PeftConfig ReadConfig(ConfigReader reader) => BitFitConfig.Read(reader);

    public override PeftConfig Attach(PeftModel peft, string name, PeftConfig config)
    {
        var bitfit = (BitFitConfig)config;
        var groups = bitfit.BiasGroups ?? BitFitConfig.Groups;
        var chosen = ParameterSelection.Candidates(peft.Model)
            .Where(c => ParameterSelection.Has(c.Module, "bias"))
            .Where(c => !ModulesToSave.Covers(c.Path, config, peft.Model))
            .Where(c => GroupsOf(c.Path, ParameterSelection.BaseOf(c.Module)).Any(groups.Contains))
            .ToList();
        if (chosen.Count == 0)
            throw new ConfigException("BitFit config", "bias_groups",
                $"{peft.Model.Architecture} has no bias in groups [{string.Join(", ", groups)}] (Llama-style models have no biases outside Qwen2's q/k/v)");
        ParameterSelection.Attach(peft.Model, name, chosen, _ => new[] { "bias" }, "BitFit");
        return bitfit;
    }

    /// <summary>
    /// The bias groups a layer belongs to, from its path across families: BERT query/key/value/attention.output.dense/
    /// intermediate.dense/output.dense; Llama q_proj/k_proj/v_proj/o_proj/gate_proj,up_proj/down_proj; DistilBERT
    /// q_lin/k_lin/v_lin/out_lin/lin1/lin2; GPT-2's fused c_attn is query, key and value at once.
    /// </summary>
    public static IReadOnlyList<string> GroupsOf(string path, nn.Module layer)
    {
        if (layer is LayerNorm or RmsNorm) return new[] { "layer_norm" };
        string name = path.Split('.')[^1];
        bool Ends(string suffix) => path.EndsWith(suffix, StringComparison.Ordinal);
        if (Ends("attn.c_attn")) return new[] { "query", "key", "value" };
        if (name is "query" or "q_proj" or "q_lin") return new[] { "query" };
        if (name is "key" or "k_proj" or "k_lin") return new[] { "key" };
        if (name is "value" or "v_proj" or "v_lin") return new[] { "value" };
        if (Ends("attention.output.dense") || name is "o_proj" or "out_lin" || Ends("attn.c_proj")) return new[] { "attention_output" };
        if (Ends("intermediate.dense") || name is "gate_proj" or "up_proj" or "lin1" || Ends("mlp.c_fc")) return new[] { "intermediate" };
        if (Ends("output.dense") || name is "down_proj" or "lin2" || Ends("mlp.c_proj")) return new[] { "output" };
        return new[] { "other" };
    }
}
