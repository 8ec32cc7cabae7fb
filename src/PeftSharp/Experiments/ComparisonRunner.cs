using System.Diagnostics;
using PeftSharp.Data.Catalog;
using PeftSharp.Models;
using PeftSharp.Tasks;
using PeftSharp.Tokenization;
using PeftSharp.Training;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Common;
using PeftSharp.Tuners.Prompts;
using static TorchSharp.torch;

namespace PeftSharp.Experiments;

/// <summary>
/// The seeds' method comparison, measured (<c>peft compare</c>): every method is trained on the same task from the
/// same pretrained model with the same budget (steps, batch size, sequence length, seed, schedule), then scored on
/// the test split, and measured for trainable parameters, adapter file size, training time, peak memory, inference
/// latency unmerged and merged, and optionally forgetting and scores with less training data. Methods run one after
/// another in this process; memory is measured per method as the rise of the resident set during training
/// (<see cref="ProcessMemory"/>). A method that fails (e.g. one that does not apply to the model) gets a row with its
/// error; the others still run.
/// </summary>
public static class ComparisonRunner
{
    /// <summary>Runs the comparison described by <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public static ComparisonResult Run(ComparisonOptions options, IExperimentProgress? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        progress ??= NoExperimentProgress.Instance;
        var clock = Stopwatch.StartNew();
        using var threads = TorchThreads.Use(options.Threads);

        if (!Directory.Exists(options.Model)) throw new ArgumentException($"{options.Model}: no such model directory", nameof(options));
        var tokenizer = TokenizerLoader.ForModel(options.Model);
        var (family, config) = AutoModel.ReadConfig(options.Model);
        var data = DataSource.Resolve(options.Data, cacheDirectory: options.CacheDirectory,
            progress: new InlineProgress<DatasetProgress>(p => progress.Stage($"{p.Dataset}: {p.Message}")));
        var head = ExperimentTask.ResolveHead(data.Kind, null, AutoModel.TaskFromArchitectures(family, config), family.Tasks.Contains(ModelTask.CausalLM));
        // Every method sees the same inputs, so inputs are cut to what the method with the most virtual tokens leaves.
        int promptPositions = options.Recipes.Max(r => PromptLearning.PositionsUsed(r.ConfigFor(config)));
        int length = Math.Min(options.MaxLength, config.MaxPositions - promptPositions);
        if (length < 8)
            throw new ArgumentException($"{options.Model} has {config.MaxPositions} positions; {promptPositions} virtual tokens leave {length} for the input", nameof(options));
        var task = ExperimentTask.Create(data, tokenizer, head, new BatchingOptions { BatchSize = options.BatchSize, MaxLength = length },
            options.MaxTestExamples);
        var scorer = task.Test ?? task.Validation;
        progress.Stage($"{data.Name}: {task.TrainExamples:N0} training examples, {(task.Test is null ? task.ValidationExamples : task.TestExamples):N0} {(task.Test is null ? "validation" : "test")} examples scored");

        using var baseline = FineTuning.LoadModel(options.Model, task, options.Precision, options.Seed);
        long modelParameters = ParameterCounts.Unique(baseline);
        var forgetting = options.Forgetting
            ? ForgettingProbe.Create(options.Model, tokenizer, ForgettingProbe.PretrainingCorporaOf(options.Model), options.ForgettingSequences,
                length, FineTuning.DTypeFor(options.Precision), options.CacheDirectory)
            : null;
        if (forgetting is not null) progress.Stage($"forgetting: {forgetting.Objective} loss of the pretrained model on {forgetting.Sequences} held-out texts: {forgetting.BaseLoss:F4}");

        var context = new RunContext(options, task, scorer, baseline, modelParameters, FineTuning.WeightBytes(options.Model), config.VocabSize,
            length, forgetting, progress, cancellation);
        // Encode the data now, so that no method's time or memory includes it.
        _ = task.TrainBatches;
        var rows = new List<MethodOutcome>();
        bool interrupted = false;
        foreach (var recipe in options.Recipes)
        {
            if (cancellation.IsCancellationRequested) { interrupted = true; break; }
            var row = context.RunMethod(recipe, task, full: true);
            rows.Add(row);
            if (row.Interrupted) { interrupted = true; break; }
        }

        var lowData = new List<LowDataOutcome>();
        foreach (int size in options.LowData.Where(n => n < task.TrainExamples).Distinct().Order())
        {
            var subset = task.WithTrainingSubset(size, options.Seed);
            foreach (var recipe in options.Recipes)
            {
                if (interrupted || cancellation.IsCancellationRequested) { interrupted = true; break; }
                var row = context.RunMethod(recipe, subset, full: false);
                if (row.Interrupted) { interrupted = true; break; }
                lowData.Add(new LowDataOutcome(recipe.Name, size, row.Metrics, row.Error));
            }
        }
        foreach (var row in rows.Where(r => options.LowData.Any(n => n >= task.TrainExamples)))
            lowData.Add(new LowDataOutcome(row.Method, task.TrainExamples, row.Metrics, row.Error));

        return new ComparisonResult
        {
            Options = options,
            DataName = data.Name,
            Task = TaskNames.Name(head),
            Labels = task.Labels?.Count,
            TrainExamples = task.TrainExamples,
            InputLength = length,
            ScoredExamples = task.Test is null ? task.ValidationExamples : task.TestExamples,
            ScoredSplit = task.Test is null ? "validation" : "test",
            PrimaryMetric = scorer.PrimaryMetric,
            HigherIsBetter = scorer.HigherIsBetter,
            ModelParameters = modelParameters,
            ModelFileBytes = context.ModelFileBytes,
            ModelFileDType = config.TorchDType,
            ForgettingBaseLoss = forgetting?.BaseLoss,
            ForgettingObjective = forgetting?.Objective,
            ForgettingSequences = forgetting?.Sequences,
            Threads = TorchThreads.Current,
            Methods = rows,
            LowData = lowData,
            Duration = clock.Elapsed,
            Interrupted = interrupted,
        };
    }

    /// <summary>What every method's run shares.</summary>
    sealed record RunContext(ComparisonOptions Options, ExperimentTask Task, IEvaluator Scorer, TransformerModel Baseline, long ModelParameters,
        long ModelFileBytes, int VocabSize, int Length, ForgettingProbe? Forgetting, IExperimentProgress Progress, CancellationToken Cancellation)
    {
        /// <summary>
        /// Trains and measures one method on <paramref name="task"/>. <paramref name="full"/>: every measurement and the
        /// adapter file; otherwise (low-data runs) the score alone.
        /// </summary>
        public MethodOutcome RunMethod(MethodRecipe recipe, ExperimentTask task, bool full)
        {
            double rate = Options.LearningRates.TryGetValue(recipe.Name, out double given) ? given : recipe.LearningRate;
            string run = full ? recipe.Name : $"{recipe.Name} ({task.TrainExamples} examples)";
            var outcome = new MethodOutcome { Method = recipe.Name, Summary = recipe.Summary, LearningRate = rate, TrainExamples = task.TrainExamples };
            string? directory = Options.OutputDirectory is { } root ? Path.Combine(root, "methods", full ? recipe.Name : $"{recipe.Name}-n{task.TrainExamples}") : null;
            PeftModel? peft = null;
            try
            {
                var model = FineTuning.LoadModel(Options.Model, task, Options.Precision, Options.Seed);
                var config = recipe.ConfigFor(model.Config) with { BaseModelNameOrPath = Options.Model };
                peft = FineTuning.Attach(model, config, Options.Seed);
                long trainable = peft.TrainableParameters().Trainable;
                outcome = outcome with
                {
                    PeftType = config.PeftType,
                    TrainableParameters = trainable,
                    TrainablePercent = 100.0 * trainable / ModelParameters,
                    ContextLeft = model.Config.MaxPositions - PromptLearning.PositionsUsed(config),
                };

                long? before = ProcessMemory.ResetPeak();
                var clock = Stopwatch.StartNew();
                var training = new TrainingOptions
                {
                    LearningRate = rate,
                    MaxSteps = Options.Steps,
                    WarmupRatio = Options.WarmupRatio,
                    Schedule = LearningRateSchedule.Linear,
                    Precision = Options.Precision,
                    Seed = Options.Seed,
                    OutputDirectory = directory,
                    LoggingSteps = 1,
                };
                var result = FineTuning.Train(peft, task, training, progress: Progress.Training(run), cancellation: Cancellation);
                double seconds = clock.Elapsed.TotalSeconds;
                long? peak = ProcessMemory.PeakBytes is long p && before is long b ? Math.Max(0, p - b) : null;
                if (directory is not null) DeleteCheckpoints(directory);
                outcome = outcome with { TrainSeconds = seconds, PeakMemoryBytes = peak, History = result.History };
                if (result.StopReason == TrainingStopReason.Cancelled) return outcome with { Interrupted = true };

                Progress.Stage($"{run}: scoring");
                outcome = outcome with { Metrics = new Dictionary<string, double>(Scorer.Evaluate(peft)) };
                if (!full) return outcome;

                string adapterDirectory = directory is null ? Path.Combine(Path.GetTempPath(), $"peftsharp-compare-{Guid.NewGuid():N}") : Path.Combine(directory, "adapter");
                peft.SaveAdapter(adapterDirectory);
                long bytes = new FileInfo(Path.Combine(adapterDirectory, AdapterFiles.WeightsFile)).Length;
                if (directory is null) Directory.Delete(adapterDirectory, recursive: true);
                outcome = outcome with { AdapterBytes = bytes, AdapterRatio = (double)bytes / ModelFileBytes };

                if (Forgetting is not null)
                {
                    Progress.Stage($"{run}: forgetting");
                    outcome = outcome with { ForgettingLoss = Forgetting.LossAfter(peft, config, Options.Seed) };
                }
                if (Options.Latency)
                {
                    Progress.Stage($"{run}: latency");
                    outcome = outcome with { Unmerged = Latencies(peft) };
                    if (FineTuning.IsMergeable(peft))
                    {
                        using var merged = peft.MergeAndUnload();
                        outcome = outcome with { Merged = Latencies(merged) };
                    }
                }
                return outcome;
            }
            catch (Exception e) when (e is PeftSharpException or ArgumentException or InvalidOperationException or NotSupportedException)
            {
                Progress.Stage($"{run}: failed: {e.Message}");
                return outcome with { Error = e.Message };
            }
            finally
            {
                peft?.Dispose();
            }
        }

        IReadOnlyList<LatencyMeasurement> Latencies(nn.Module<ModelInputs, ModelOutputs> model) =>
        [
            InferenceLatency.Compare(Baseline, model, VocabSize, 1, Length, Options.LatencyRounds * 4),
            InferenceLatency.Compare(Baseline, model, VocabSize, Options.LatencyBatch, Length, Options.LatencyRounds),
        ];

        /// <summary>The trainer always leaves a final checkpoint; a comparison keeps only metrics.jsonl and the adapter.</summary>
        static void DeleteCheckpoints(string directory)
        {
            string checkpoints = TrainingCheckpoint.Folder(directory);
            if (Directory.Exists(checkpoints)) Directory.Delete(checkpoints, recursive: true);
        }
    }
}
