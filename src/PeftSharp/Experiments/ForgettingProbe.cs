using PeftSharp.Models;
using PeftSharp.Tasks;
using PeftSharp.Tokenization;
using PeftSharp.Training;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using static TorchSharp.torch;

namespace PeftSharp.Experiments;

/// <summary>
/// Measures forgetting, the seeds' claim that PEFT keeps what pretraining taught: the language-modelling loss (masked
/// for encoders, next-token for decoders) on held-out pretraining text, for the pretrained model and for the model
/// after task training. The task model has a classification head, so the trained adapter is carried over to a fresh
/// copy of the pretrained model with its language-model head: the same method is attached and every trained tensor
/// whose name exists there (all of the backbone's; not the task head) is copied in.
/// </summary>
public sealed class ForgettingProbe
{
    readonly string _directory;
    readonly ModelTask _head;
    readonly ScalarType _dtype;
    readonly IEvaluator _evaluator;

    ForgettingProbe(string directory, ModelTask head, ScalarType dtype, IEvaluator evaluator, int sequences)
    {
        _directory = directory;
        _head = head;
        _dtype = dtype;
        _evaluator = evaluator;
        Sequences = sequences;
        using var model = LoadLanguageModel();
        BaseLoss = Loss(model);
    }

    /// <summary>Held-out loss of the pretrained model.</summary>
    public double BaseLoss { get; }

    /// <summary>Held-out texts scored.</summary>
    public int Sequences { get; }

    /// <summary>"masked-lm" or "causal-lm".</summary>
    public string Objective => TaskNames.Name(_head);

    /// <summary>
    /// A probe for the model in <paramref name="directory"/>, whose config must name a masked or causal LM head, on
    /// held-out text of <paramref name="corpora"/> (the model's pretraining corpora, see pretrain.json).
    /// </summary>
    /// <exception cref="ArgumentException">The model has no language-model head.</exception>
    public static ForgettingProbe Create(string directory, PretrainedTokenizer tokenizer, IReadOnlyList<string> corpora, int heldOutSequences, int maxLength,
        ScalarType dtype, string? cacheDirectory = null)
    {
        var (family, config) = AutoModel.ReadConfig(directory);
        var head = AutoModel.TaskFromArchitectures(family, config);
        TrainingTask<Data.LanguageModelingExample> task = head switch
        {
            ModelTask.MaskedLM => new MaskedLanguageModelingTask(tokenizer, new BatchingOptions { BatchSize = 32, MaxLength = maxLength }),
            ModelTask.CausalLM => new CausalLanguageModelingTask(tokenizer, new BatchingOptions { BatchSize = 32, MaxLength = maxLength }),
            _ => throw new ArgumentException($"{directory}: forgetting is measured with the model's language-model head, and {config.Architectures.FirstOrDefault() ?? "this model"} has none", nameof(directory)),
        };
        var corpus = PretrainingCorpus.LoadHeldOut(corpora, maxLength, heldOutSequences, cacheDirectory);
        return new ForgettingProbe(directory, head, dtype, task.Evaluator(corpus.HeldOut), corpus.HeldOut.Count);
    }

    /// <summary>
    /// The corpora a model was pretrained on, from its pretrain.json; the catalog's default corpora when there is none.
    /// </summary>
    public static IReadOnlyList<string> PretrainingCorporaOf(string directory)
    {
        string record = Path.Combine(directory, Pretraining.RecordFile);
        if (!File.Exists(record)) return PretrainingOptions.DefaultCorpora;
        var corpora = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(record))?["corpora"]?.AsArray()
            .Select(c => c?["name"]?.GetValue<string>()).OfType<string>().ToList();
        return corpora is { Count: > 0 } ? corpora : PretrainingOptions.DefaultCorpora;
    }

    /// <summary>Held-out loss after <paramref name="trained"/>'s active adapter (attached with <paramref name="config"/>) is carried to the language model.</summary>
    /// <exception cref="InvalidOperationException">No trained tensor fits the language model (nothing would be measured).</exception>
    public double LossAfter(PeftModel trained, PeftConfig config, long seed)
    {
        ArgumentNullException.ThrowIfNull(trained);
        using var model = LoadLanguageModel();
        // The task's own fields (classification heads to save) do not apply to the language model.
        using var carried = FineTuning.Attach(model, config with { TaskType = null, ModulesToSave = null }, seed);
        var targets = carried.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        int copied = 0, backbone = 0;
        using (no_grad())
        {
            foreach (var (name, parameter) in trained.named_parameters().Where(p => p.parameter.requires_grad))
            {
                if (!targets.TryGetValue(name, out var target) || !target.shape.SequenceEqual(parameter.shape)) continue;
                target.copy_(parameter.to(target.dtype));
                copied++;
            }
            backbone = targets.Count(t => t.Value.requires_grad);
        }
        if (copied == 0 && backbone > 0)
            throw new InvalidOperationException($"none of the trained tensors fits the language model of {_directory}; forgetting cannot be measured");
        return Loss(carried);
    }

    TransformerModel LoadLanguageModel() => AutoModel.Load(_directory, new ModelLoadOptions { Task = _head, DType = _dtype }).Model;

    double Loss(nn.Module<ModelInputs, ModelOutputs> model)
    {
        using var scope = NewDisposeScope();
        return _evaluator.Evaluate(model)["loss"];
    }
}
