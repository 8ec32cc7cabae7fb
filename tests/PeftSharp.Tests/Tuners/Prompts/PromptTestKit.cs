using PeftSharp.Models;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.Prompts;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tuners.Prompts;

/// <summary>The prompt-learning methods and the families the prompt tests run them on, with small helpers.</summary>
public static class PromptTestKit
{
    /// <summary>Each prompt-learning method (and variant), as a config with <paramref name="tokens"/> virtual tokens.</summary>
    public static PromptLearningConfig Config(string method, int tokens = 4) => method switch
    {
        "prompt-tuning" => new PromptTuningConfig { NumVirtualTokens = tokens },
        "p-tuning-mlp" => new PTuningConfig { NumVirtualTokens = tokens, EncoderHiddenSize = 16 },
        "p-tuning-lstm" => new PTuningConfig { NumVirtualTokens = tokens, EncoderHiddenSize = 8, EncoderReparameterizationType = PromptEncoderReparameterization.Lstm, EncoderDropout = 0.1 },
        "prefix" => new PrefixTuningConfig { NumVirtualTokens = tokens },
        "prefix-projection" => new PrefixTuningConfig { NumVirtualTokens = tokens, PrefixProjection = true, EncoderHiddenSize = 16 },
        _ => throw new ArgumentException(method),
    };

    public static readonly string[] Methods = { "prompt-tuning", "p-tuning-mlp", "p-tuning-lstm", "prefix", "prefix-projection" };

    /// <summary>Decoders (Llama with grouped-query attention) and encoders.</summary>
    public static readonly string[] Decoders = { "gpt2", "llama" };
    public static readonly string[] Encoders = { "bert", "distilbert", "roberta" };

    /// <summary>(method, model_type) over every method and the decoder families.</summary>
    public static IEnumerable<object[]> MethodsOnDecoders() => from m in Methods from f in Decoders select new object[] { m, f };

    /// <summary>(method, model_type) over every method and the encoder families.</summary>
    public static IEnumerable<object[]> MethodsOnEncoders() => from m in Methods from f in Encoders select new object[] { m, f };

    /// <summary>(method, model_type) over every method and every family above.</summary>
    public static IEnumerable<object[]> MethodsOnAll() => MethodsOnDecoders().Concat(MethodsOnEncoders());

    /// <summary>The head a family is tested with: the causal LM of decoders, sequence classification of encoders.</summary>
    public static ModelTask Task(string modelType) => Decoders.Contains(modelType) ? ModelTask.CausalLM : ModelTask.SequenceClassification;

    /// <summary>A tiny model of <paramref name="modelType"/> with one adapter of <paramref name="method"/>, trained a little.</summary>
    public static PeftModel Create(string method, string modelType, ModelTask? task = null, int tokens = 4, bool train = true)
    {
        manual_seed(11);
        var peft = PeftModel.Create(TinyModels.Create(modelType, task ?? Task(modelType)), Config(method, tokens));
        if (train) Train(peft, TinyModels.RandomIds(2, 6));
        peft.eval();
        return peft;
    }

    /// <summary>Logits where the head gives them, else hidden states, without gradients.</summary>
    public static Tensor Output(nn.Module<ModelInputs, ModelOutputs> model, Tensor ids, Tensor? mask = null) => TunerTesting.Output(model, ids, mask);

    /// <summary>A few AdamW steps on a fixed random direction of the output (the adapter's parameters only).</summary>
    public static void Train(PeftModel peft, Tensor ids, int steps = 3, double lr = 0.05) => TunerTesting.Train(peft, ids, steps, lr);

    /// <summary>Runs <paramref name="action"/> with each batch row routed to the named adapter.</summary>
    public static Tensor Routed(PeftModel peft, string[] rows, Tensor ids, Tensor? mask = null)
    {
        using var _ = peft.RouteRows(rows);
        return Output(peft, ids, mask);
    }

    /// <summary>The output of <paramref name="adapter"/> alone (null: the base model).</summary>
    public static Tensor Alone(PeftModel peft, string? adapter, Tensor ids, Tensor? mask = null)
    {
        if (adapter is null || adapter == AdapterRouting.BaseModel)
            using (peft.DisableAdapters()) return Output(peft, ids, mask);
        peft.SetAdapter(adapter);
        return Output(peft, ids, mask);
    }
}
