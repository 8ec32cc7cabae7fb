using PeftSharp.Data;
using PeftSharp.Data.Catalog;
using PeftSharp.Models;
using PeftSharp.Tasks;
using PeftSharp.Tokenization;
using PeftSharp.Training;

namespace PeftSharp.Experiments;

/// <summary>
/// A dataset bound to a task and a tokenizer, ready to train and score: the head the model needs, the class labels,
/// the loss, the training batches and evaluators over the validation and test splits. Hides the example type, so
/// that commands and the comparison treat sequence classification, token classification, causal and masked
/// language modelling alike.
/// </summary>
public abstract class ExperimentTask
{
    private protected ExperimentTask() { }

    /// <summary>The head the model is built with.</summary>
    public abstract ModelTask Head { get; }

    /// <summary>The class labels of a classification head (ids = positions), or null for language modelling.</summary>
    public abstract IReadOnlyList<string>? Labels { get; }

    /// <summary>The loss.</summary>
    public abstract ITrainingObjective Objective { get; }

    /// <summary>Training examples (a long language-modelling text counts once).</summary>
    public abstract int TrainExamples { get; }

    /// <summary>Validation examples scored (after any cap).</summary>
    public abstract int ValidationExamples { get; }

    /// <summary>Test examples scored (after any cap); 0 without a test split.</summary>
    public abstract int TestExamples { get; }

    /// <summary>The training batches, reproducible from (epoch, seed); encoded on first use.</summary>
    public abstract IBatchSource TrainBatches { get; }

    /// <summary>Scores the validation split; encoded on first use.</summary>
    public abstract IEvaluator Validation { get; }

    /// <summary>Scores the test split, or null without one; encoded on first use.</summary>
    public abstract IEvaluator? Test { get; }

    /// <summary>The same task trained on <paramref name="count"/> training examples chosen by a seeded shuffle (labels and evaluation unchanged).</summary>
    public abstract ExperimentTask WithTrainingSubset(int count, long seed);

    /// <summary>
    /// The head for data of <paramref name="kind"/>: classification data need a sequence or token classifier; text
    /// takes the model's own language-model head, else a causal head for decoders and a masked one for encoders.
    /// <paramref name="requested"/> (--task) must fit the data.
    /// </summary>
    /// <exception cref="ArgumentException">The requested head does not fit the data.</exception>
    public static ModelTask ResolveHead(DatasetKind kind, ModelTask? requested, ModelTask modelHead, bool isCausal)
    {
        var fitting = kind switch
        {
            DatasetKind.TextClassification => [ModelTask.SequenceClassification],
            DatasetKind.TokenClassification => [ModelTask.TokenClassification],
            _ => new[] { ModelTask.CausalLM, ModelTask.MaskedLM },
        };
        if (requested is ModelTask given)
            return fitting.Contains(given) ? given
                : throw new ArgumentException($"task {TaskNames.Name(given)} does not fit {kind} data (use {string.Join(" or ", fitting.Select(TaskNames.Name))})", nameof(requested));
        if (kind != DatasetKind.LanguageModeling) return fitting[0];
        return modelHead is ModelTask.CausalLM or ModelTask.MaskedLM ? modelHead : isCausal ? ModelTask.CausalLM : ModelTask.MaskedLM;
    }

    /// <summary>Reads <paramref name="data"/> and binds it to <paramref name="head"/>'s task.</summary>
    /// <param name="data">The dataset.</param>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="head">The head (see <see cref="ResolveHead"/>).</param>
    /// <param name="batching">Batch size and maximum length.</param>
    /// <param name="maxEvaluationExamples">Score at most this many validation and test examples (a fixed seeded sample); null scores all.</param>
    /// <param name="labels">The classes in id order (e.g. those an adapter was trained with); null gathers them from the training split.</param>
    /// <exception cref="DataFormatException">A file cannot be read, or evaluation data hold labels the training data lack.</exception>
    public static ExperimentTask Create(DataSource data, PretrainedTokenizer tokenizer, ModelTask head, BatchingOptions batching, int? maxEvaluationExamples = null,
        IReadOnlyList<string>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(tokenizer);
        switch (head)
        {
            case ModelTask.SequenceClassification:
            {
                var splits = data.Files.LoadTextClassification();
                var classes = labels is null ? LabelSet.Gather(splits.Train) : LabelSet.Of(labels);
                return new Bound<TextClassificationExample>(head, classes.Names,
                    SequenceClassificationTask.Classification(tokenizer, classes, batching), splits, maxEvaluationExamples);
            }
            case ModelTask.TokenClassification:
            {
                var splits = data.Files.LoadTokenClassification();
                var tags = labels is null ? LabelSet.Gather(splits.Train) : LabelSet.Of(labels);
                return new Bound<TokenClassificationExample>(head, tags.Names, new TokenClassificationTask(tokenizer, tags, batching), splits, maxEvaluationExamples);
            }
            case ModelTask.CausalLM:
                return new Bound<LanguageModelingExample>(head, null, new CausalLanguageModelingTask(tokenizer, batching),
                    data.Files.LoadLanguageModeling(), maxEvaluationExamples);
            case ModelTask.MaskedLM:
                return new Bound<LanguageModelingExample>(head, null, new MaskedLanguageModelingTask(tokenizer, batching),
                    data.Files.LoadLanguageModeling(), maxEvaluationExamples);
            default:
                throw new ArgumentException($"no training task for a {head} head", nameof(head));
        }
    }

    /// <summary>A task over examples of one type.</summary>
    sealed class Bound<T> : ExperimentTask
    {
        /// <summary>Seed of the evaluation sample, fixed so every run scores the same examples.</summary>
        const long EvaluationSampleSeed = 0xE7A1;

        readonly TrainingTask<T> _task;
        readonly DataSplits<T> _splits;
        readonly IReadOnlyList<T> _validation;
        readonly IReadOnlyList<T>? _test;
        readonly int? _maxEvaluation;
        IBatchSource? _train;
        IEvaluator? _validationEvaluator, _testEvaluator;

        public Bound(ModelTask head, IReadOnlyList<string>? labels, TrainingTask<T> task, DataSplits<T> splits, int? maxEvaluation)
        {
            Head = head;
            Labels = labels;
            _task = task;
            _splits = splits;
            _maxEvaluation = maxEvaluation;
            _validation = Sample(splits.Validation, maxEvaluation);
            _test = splits.Test is { } test ? Sample(test, maxEvaluation) : null;
        }

        public override ModelTask Head { get; }
        public override IReadOnlyList<string>? Labels { get; }
        public override ITrainingObjective Objective => _task;
        public override int TrainExamples => _splits.Train.Count;
        public override int ValidationExamples => _validation.Count;
        public override int TestExamples => _test?.Count ?? 0;
        public override IBatchSource TrainBatches => _train ??= _task.Batches(_splits.Train);
        public override IEvaluator Validation => _validationEvaluator ??= _task.Evaluator(_validation);
        public override IEvaluator? Test => _test is null ? null : _testEvaluator ??= _task.Evaluator(_test);

        public override ExperimentTask WithTrainingSubset(int count, long seed)
        {
            if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "must be at least 1");
            if (count >= _splits.Train.Count) return this;
            return new Bound<T>(Head, Labels, _task, _splits with { Train = Sample(_splits.Train, count, seed) }, _maxEvaluation)
            {
                _validationEvaluator = _validationEvaluator,
                _testEvaluator = _testEvaluator,
            };
        }

        /// <summary>At most <paramref name="count"/> examples chosen by a seeded shuffle, in their original order.</summary>
        static IReadOnlyList<T> Sample(IReadOnlyList<T> examples, int? count, long seed = EvaluationSampleSeed)
        {
            if (count is not int n || n >= examples.Count) return examples;
            var order = Enumerable.Range(0, examples.Count).ToArray();
            SeededRandom.For(seed, examples.Count).Shuffle(order);
            return order.Take(n).Order().Select(i => examples[i]).ToList();
        }
    }
}
