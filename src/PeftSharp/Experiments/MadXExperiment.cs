using System.Diagnostics;
using System.Text.RegularExpressions;
using PeftSharp.Data.Catalog;
using PeftSharp.Models;
using PeftSharp.Tasks;
using PeftSharp.Tokenization;
using PeftSharp.Training;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Adapters;
using static TorchSharp.torch;

namespace PeftSharp.Experiments;

/// <summary>
/// The MAD-X workflow (Pfeiffer et al. 2020) measured end to end (<c>peft madx</c>), with text domains in the role of
/// languages:
/// <list type="number">
/// <item>one language adapter per domain (<see cref="MadX.LanguageAdapterConfig"/>: Pfeiffer bottlenecks and a NICE
/// invertible adapter) trained through the model's own language-model head on that domain's training text, every
/// adapter with the same steps, batch size, learning rate and seed;</item>
/// <item>the language-modelling loss and perplexity of the bare model and of each language adapter on every domain's
/// held-out text;</item>
/// <item>a task adapter (<see cref="MadX.AddTaskAdapter"/>) trained on the classification task, stacked on the first
/// domain's language adapter, which stays frozen (checked: the base and every language adapter are compared bit for bit
/// before and after);</item>
/// <item>the task's test split scored with the task adapter over each language adapter in turn, and over none
/// (<see cref="MadX.UseLanguageAdapter"/>).</item>
/// </list>
/// The task model loads the language adapters from the files step 1 saved, as the MAD-X workflow does across models.
/// Seeds are fixed, so the same options and thread count give the same numbers.
/// </summary>
public static class MadXExperiment
{
    /// <summary>Runs the workflow described by <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid, the model has no language-model head, a language is not
    /// plain text, the task is not text classification, or two datasets would give adapters the same name.</exception>
    public static MadXResult Run(MadXOptions options, IExperimentProgress? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        progress ??= NoExperimentProgress.Instance;
        var clock = Stopwatch.StartNew();
        using var threads = TorchThreads.Use(options.Threads);

        if (!Directory.Exists(options.Model)) throw new ArgumentException($"{options.Model}: no such model directory", nameof(options));
        var (family, config) = AutoModel.ReadConfig(options.Model);
        var languageHead = AutoModel.TaskFromArchitectures(family, config);
        if (languageHead is not (ModelTask.MaskedLM or ModelTask.CausalLM))
            throw new ArgumentException($"{options.Model}: the checkpoint ({(config.Architectures.Count > 0 ? config.Architectures[0] : "no architectures")}) has no language-model head; " +
                "MAD-X trains language adapters through the model's own masked-LM (or causal-LM) head", nameof(options));
        var tokenizer = TokenizerLoader.ForModel(options.Model);

        // Resolve every dataset before any training, so that a wrong name or kind fails at once.
        var dataProgress = new InlineProgress<DatasetProgress>(p => progress.Stage($"{p.Dataset}: {p.Message}"));
        var taskData = Resolve(options.Task, DatasetKind.TextClassification, nameof(MadXOptions.Task), "not text classification (a label per text)", options, dataProgress);
        var languageData = options.Languages
            .Select(l => Resolve(l, DatasetKind.LanguageModeling, nameof(MadXOptions.Languages), "not plain text a language adapter can learn from", options, dataProgress))
            .ToList();
        var languageNames = languageData.Select(AdapterName).ToList();
        string taskName = AdapterName(taskData);
        RequireDistinct([.. languageData, taskData], [.. languageNames, taskName]);

        int length = Math.Min(options.MaxLength, config.MaxPositions);
        var batching = new BatchingOptions { BatchSize = options.BatchSize, MaxLength = length };
        var languageTasks = languageData.Select(d => ExperimentTask.Create(d, tokenizer, languageHead, batching, options.MaxTestExamples)).ToList();
        var classification = ExperimentTask.Create(taskData, tokenizer, ModelTask.SequenceClassification, batching, options.MaxTestExamples);
        var scorer = classification.Test ?? classification.Validation;
        var languages = languageTasks.Select((t, i) => new LanguageAdapterOutcome
        {
            Data = languageData[i].Name,
            Adapter = languageNames[i],
            TrainExamples = t.TrainExamples,
            HeldOutSplit = t.Test is null ? "validation" : "test",
            HeldOutExamples = t.Test is null ? t.ValidationExamples : t.TestExamples,
        }).ToList();
        progress.Stage($"languages: {string.Join("; ", languages.Select(l => $"{l.Data} ({l.TrainExamples:N0} training texts, {l.HeldOutExamples:N0} {l.HeldOutSplit} texts held out)"))}");
        progress.Stage($"task: {taskData.Name}, {classification.Labels!.Count} classes, {classification.TrainExamples:N0} training examples, " +
            $"{(classification.Test is null ? classification.ValidationExamples : classification.TestExamples):N0} {(classification.Test is null ? "validation" : "test")} examples scored");

        // Step 1 saves the language adapters here and step 3 loads them from here, as separate programs would.
        string adapters = options.OutputDirectory is { } root ? Path.Combine(root, "adapters") : Path.Combine(Path.GetTempPath(), $"peftsharp-madx-{Guid.NewGuid():N}");
        var workflow = new Workflow(options, progress, cancellation);
        try
        {
            var (languageModeling, modelParameters, trainedLanguages, interrupted) = workflow.LanguageAdapters(languageTasks, languages, languageHead, adapters);
            var result = new MadXResult
            {
                Options = options,
                Objective = TaskNames.Name(languageHead),
                InputLength = length,
                ModelParameters = modelParameters,
                Languages = trainedLanguages,
                LanguageModeling = languageModeling,
                TaskData = taskData.Name,
                TaskAdapter = taskName,
                Labels = classification.Labels!,
                TaskTrainExamples = classification.TrainExamples,
                ScoredSplit = classification.Test is null ? "validation" : "test",
                ScoredExamples = classification.Test is null ? classification.ValidationExamples : classification.TestExamples,
                PrimaryMetric = scorer.PrimaryMetric,
                Threads = TorchThreads.Current,
                Duration = TimeSpan.Zero,
                Interrupted = interrupted,
            };
            if (!interrupted) result = workflow.TaskAdapter(result, classification, scorer, adapters);
            return result with { Duration = clock.Elapsed };
        }
        finally
        {
            if (options.OutputDirectory is null && Directory.Exists(adapters)) Directory.Delete(adapters, recursive: true);
        }
    }

    /// <summary>The steps of one run, sharing its options, progress and cancellation.</summary>
    sealed record Workflow(MadXOptions Options, IExperimentProgress Progress, CancellationToken Cancellation)
    {
        /// <summary>
        /// Steps 1 and 2: scores the bare model on every domain's held-out text, then trains, saves and scores one language
        /// adapter per domain on a single model, each added (and the only one active and trainable) in turn.
        /// </summary>
        public (List<LanguageModelingRow> Rows, long ModelParameters, List<LanguageAdapterOutcome> Trained, bool Interrupted) LanguageAdapters(
            IReadOnlyList<ExperimentTask> tasks, IReadOnlyList<LanguageAdapterOutcome> languages, ModelTask head, string adapters)
        {
            var model = FineTuning.LoadModel(Options.Model, tasks[0], TrainingPrecision.Float32, Options.Seed);
            long modelParameters = ParameterCounts.Unique(model);
            var rows = new List<LanguageModelingRow>();
            var trained = new List<LanguageAdapterOutcome>();
            PeftModel? peft = null;
            try
            {
                Progress.Stage($"base model: {TaskNames.Name(head)} loss on held-out text");
                rows.Add(new LanguageModelingRow(null, ScoreHeldOut(model, tasks, languages)));
                for (int i = 0; i < tasks.Count; i++)
                {
                    if (Cancellation.IsCancellationRequested) return (rows, modelParameters, trained, true);
                    string name = languages[i].Adapter;
                    var config = MadX.LanguageAdapterConfig() with { BaseModelNameOrPath = Options.Model };
                    // Every language adapter starts from the same initial values (the bottlenecks' down-projections are random).
                    SeedInitialisation(Options.Seed);
                    if (peft is null) peft = PeftModel.Create(model, config, name);   // active and trainable, like AddLanguageAdapter
                    else peft.AddLanguageAdapter(name, config);

                    var clock = Stopwatch.StartNew();
                    var result = FineTuning.Train(peft, tasks[i], TrainingOptionsFor(Options.LanguageLearningRate, Options.LanguageSteps, name),
                        progress: Progress.Training($"language adapter {name}"), cancellation: Cancellation);
                    var outcome = languages[i] with
                    {
                        AdapterParameters = peft.AdapterParameters(name).Sum(p => p.numel()),
                        TrainSeconds = clock.Elapsed.TotalSeconds,
                        History = result.History,
                    };
                    trained.Add(outcome);
                    DeleteCheckpoints(name);
                    if (result.StopReason == TrainingStopReason.Cancelled) return (rows, modelParameters, trained, true);
                    peft.SaveAdapter(Path.Combine(adapters, name), name);

                    Progress.Stage($"language adapter {name}: {TaskNames.Name(head)} loss on held-out text");
                    peft.SetComposition(name);   // active alone, nothing trainable
                    rows.Add(new LanguageModelingRow(name, ScoreHeldOut(peft, tasks, languages)));
                }
                return (rows, modelParameters, trained, false);
            }
            finally
            {
                if (peft is not null) peft.Dispose();
                else model.Dispose();
            }
        }

        /// <summary>
        /// Steps 3 and 4 on a fresh model with the classification head: loads the saved language adapters, trains the task
        /// adapter stacked on the first one, checks that nothing else moved, saves it, and scores it over each language
        /// adapter and alone.
        /// </summary>
        public MadXResult TaskAdapter(MadXResult result, ExperimentTask classification, IEvaluator scorer, string adapters)
        {
            string own = result.Languages[0].Adapter, task = result.TaskAdapter;
            var model = FineTuning.LoadModel(Options.Model, classification, TrainingPrecision.Float32, Options.Seed);
            using var peft = PeftModel.Load(model, Path.Combine(adapters, own), own);
            foreach (var language in result.Languages.Skip(1)) peft.LoadAdapter(Path.Combine(adapters, language.Adapter), language.Adapter);
            SeedInitialisation(Options.Seed);
            peft.AddTaskAdapter(task, own, MadX.TaskAdapterConfig() with { BaseModelNameOrPath = Options.Model });
            long trainable = peft.TrainableParameters().Trainable;

            var frozen = SnapshotExcept(peft, task);
            var clock = Stopwatch.StartNew();
            var training = FineTuning.Train(peft, classification, TrainingOptionsFor(Options.TaskLearningRate, Options.TaskSteps, task),
                progress: Progress.Training($"task adapter {task} over {own}"), cancellation: Cancellation);
            double seconds = clock.Elapsed.TotalSeconds;
            DeleteCheckpoints(task);
            var changed = Changed(peft, frozen);
            result = result with
            {
                TaskTrainableParameters = trainable,
                TaskTrainSeconds = seconds,
                TaskHistory = training.History,
                FrozenTensorsChecked = frozen.Count,
                FrozenTensorsChanged = changed,
            };
            foreach (var tensor in frozen.Values) tensor.Dispose();
            if (training.StopReason == TrainingStopReason.Cancelled) return result with { Interrupted = true };
            peft.SaveAdapter(Path.Combine(adapters, task), task);

            var scores = new List<TaskScore>();
            foreach (string? language in result.Languages.Select(l => (string?)l.Adapter).Append(null))
            {
                Progress.Stage($"task adapter {task} over {language ?? "no language adapter"}: scoring");
                peft.UseLanguageAdapter(task, language);
                scores.Add(new TaskScore(language, new Dictionary<string, double>(scorer.Evaluate(peft))));
            }
            return result with { TaskScores = scores };
        }

        TrainingOptions TrainingOptionsFor(double learningRate, int steps, string adapter) => new()
        {
            LearningRate = learningRate,
            MaxSteps = steps,
            WarmupRatio = Options.WarmupRatio,
            Schedule = LearningRateSchedule.Linear,
            Seed = Options.Seed,
            OutputDirectory = TrainingDirectory(adapter),
            LoggingSteps = 1,
        };

        /// <summary>training/&lt;adapter&gt;/ of the report (metrics.jsonl), or null without one.</summary>
        string? TrainingDirectory(string adapter) => Options.OutputDirectory is { } root ? Path.Combine(root, "training", adapter) : null;

        /// <summary>The trainer always leaves a final checkpoint; the report keeps only metrics.jsonl (the adapters are saved on their own).</summary>
        void DeleteCheckpoints(string adapter)
        {
            if (TrainingDirectory(adapter) is not { } directory) return;
            string checkpoints = TrainingCheckpoint.Folder(directory);
            if (Directory.Exists(checkpoints)) Directory.Delete(checkpoints, recursive: true);
        }
    }

    /// <summary>The metrics of <paramref name="model"/> on every language's held-out text, by dataset name.</summary>
    static Dictionary<string, IReadOnlyDictionary<string, double>> ScoreHeldOut(nn.Module<ModelInputs, ModelOutputs> model,
        IReadOnlyList<ExperimentTask> tasks, IReadOnlyList<LanguageAdapterOutcome> languages) =>
        tasks.Select((t, i) => (languages[i].Data, Metrics: (IReadOnlyDictionary<string, double>)new Dictionary<string, double>((t.Test ?? t.Validation).Evaluate(model))))
            .ToDictionary(p => p.Data, p => p.Metrics);

    /// <summary>Draws the adapters' random initial values from a generator seeded with <paramref name="seed"/> (they use libtorch's default one).</summary>
    static void SeedInitialisation(long seed)
    {
        using (manual_seed(seed)) { }
    }

    /// <summary>Copies of every parameter except <paramref name="adapter"/>'s own (its bottlenecks and head copy): the base and the other adapters.</summary>
    static Dictionary<string, Tensor> SnapshotExcept(PeftModel peft, string adapter)
    {
        // Parameters are told apart by their storage, so a name that happens to equal the adapter's cannot hide a base tensor.
        var own = peft.AdapterParameters(adapter).Select(p => IO.NativeTensorMemory.Identity(p)).ToHashSet();
        using var noGrad = no_grad();
        return peft.named_parameters().Where(p => !own.Contains(IO.NativeTensorMemory.Identity(p.parameter)))
            .ToDictionary(p => p.name, p => p.parameter.detach().clone());
    }

    /// <summary>Names of the snapshot's parameters whose values now differ in any element, compared exactly (a NaN compares unequal, so it counts as a change).</summary>
    static List<string> Changed(PeftModel peft, IReadOnlyDictionary<string, Tensor> before)
    {
        using var noGrad = no_grad();
        return peft.named_parameters().Where(p => before.TryGetValue(p.name, out var old) && !p.parameter.equal(old).all().item<bool>()).Select(p => p.name).ToList();
    }

    static DataSource Resolve(string name, DatasetKind expected, string option, string problem, MadXOptions options, IProgress<DatasetProgress> progress)
    {
        var data = DataSource.Resolve(name, cacheDirectory: options.CacheDirectory, progress: progress);
        if (data.Kind != expected) throw new ArgumentException($"MAD-X option {option}: '{name}' holds {Describe(data.Kind)} data, {problem}", option);
        return data;
    }

    static string Describe(DatasetKind kind) => kind switch
    {
        DatasetKind.TextClassification => "text-classification",
        DatasetKind.TokenClassification => "token-classification",
        DatasetKind.LanguageModeling => "language-modelling (plain text)",
        _ => kind.ToString(),
    };

    /// <summary>
    /// The adapter name for a dataset: the catalog name, or the file's name without its extension, with anything but
    /// letters, digits, '-' and '_' replaced by '_' (adapter names hold no dots; they become folder and module names).
    /// </summary>
    static string AdapterName(DataSource data)
    {
        string name = data.Entry is null ? Path.GetFileNameWithoutExtension(data.Name) : data.Name;
        name = Regex.Replace(name, "[^A-Za-z0-9_-]", "_");
        return name.Length > 0 ? name : "data";
    }

    static void RequireDistinct(IReadOnlyList<DataSource> data, IReadOnlyList<string> names)
    {
        for (int i = 0; i < names.Count; i++)
            for (int j = 0; j < i; j++)
                if (names[i].Equals(names[j], StringComparison.OrdinalIgnoreCase))
                    throw new ArgumentException($"'{data[j].Name}' and '{data[i].Name}' would both give adapter '{names[i]}'; rename one of the files", nameof(MadXOptions.Languages));
    }
}
