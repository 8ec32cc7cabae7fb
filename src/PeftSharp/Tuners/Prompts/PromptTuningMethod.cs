using PeftSharp.Models;
using PeftSharp.Tuners.Common;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Prompts;

/// <summary>Attaches prompt tuning (peft_type "PROMPT_TUNING"): learned virtual tokens ahead of the input embeddings.</summary>
public sealed class PromptTuningMethod : PromptLearningMethod
{
    public override string PeftType => "PROMPT_TUNING";
    public override string Description => "Prompt tuning: learned virtual-token embeddings prepended to the input (Lester et al. 2021)";

    public override PeftConfig ReadConfig(ConfigReader reader) => PromptTuningConfig.Read(reader);

    protected override VirtualTokenEncoder CreateEncoder(TransformerModel model, PromptLearningConfig config)
    {
        var prompt = (PromptTuningConfig)config;
        int count = prompt.NumVirtualTokens, dim = prompt.TokenDim!.Value;
        if (prompt.InferenceMode || prompt.PromptTuningInit == PromptTuningInit.Random) return new PromptEmbedding(randn(count, dim));
        long[] ids = prompt.PromptTuningInit == PromptTuningInit.SampleVocab
            ? randint(0, model.Config.VocabSize, new long[] { count }, ScalarType.Int64).data<long>().ToArray()
            : prompt.InitIds();
        foreach (long id in ids)
            if (id < 0 || id >= model.Config.VocabSize)
                throw new ConfigException($"{PeftType} config", "prompt_tuning_init_text", $"token id {id} is outside {model.Architecture}'s vocabulary of {model.Config.VocabSize}");
        using var _ = no_grad();
        var rows = model.InputEmbeddings.call(tensor(ids, device: model.Device).unsqueeze(0)).squeeze(0);   // [P, hidden]
        return new PromptEmbedding(rows.to(ScalarType.Float32));
    }
}
