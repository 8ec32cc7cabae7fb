using System.Diagnostics;
using PeftSharp.Models;
using static TorchSharp.torch;

namespace PeftSharp.Training;

/// <summary>
/// Trains the parameters of a model that require grad (normally a <see cref="Tuners.PeftModel"/>'s active adapter) with
/// AdamW on an <see cref="IBatchSource"/> and an <see cref="ITrainingObjective"/>: learning-rate schedule, gradient
/// accumulation and clipping, a guard against non-finite steps, bf16 mixed precision, activation checkpointing,
/// periodic evaluation with early stopping and best-state selection, metrics.jsonl, progress reports, and checkpoints
/// from which <see cref="Resume"/> continues bit for bit. A trainer runs once; see docs/training.md.
/// </summary>
public sealed class Trainer
{
    readonly nn.Module<ModelInputs, ModelOutputs> _model;
    readonly ITrainingObjective _objective;
    readonly IBatchSource _data;
    readonly IEvaluator? _evaluator;
    readonly long _warmupSteps;
    bool _started;

    /// <summary>A trainer for one run; nothing happens until <see cref="Train"/> or <see cref="Resume"/>.</summary>
    /// <param name="model">The model; its parameters that require grad when the run starts are trained.</param>
    /// <param name="objective">The loss.</param>
    /// <param name="trainData">Training batches, reproducible from (epoch, seed).</param>
    /// <param name="options">Run settings, validated here.</param>
    /// <param name="evaluator">Held-out scoring, needed for evaluation, early stopping and best-state selection.</param>
    /// <exception cref="ArgumentException">An option is invalid (the exception names it) or needs an evaluator.</exception>
    public Trainer(nn.Module<ModelInputs, ModelOutputs> model, ITrainingObjective objective, IBatchSource trainData, TrainingOptions options, IEvaluator? evaluator = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _objective = objective ?? throw new ArgumentNullException(nameof(objective));
        _data = trainData ?? throw new ArgumentNullException(nameof(trainData));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        _evaluator = evaluator;
        options.Validate();
        if (evaluator is null)
        {
            if (options.EvalSteps > 0) throw new ArgumentException("training option EvalSteps needs an evaluator", nameof(TrainingOptions.EvalSteps));
            if (options.EarlyStoppingPatience > 0) throw new ArgumentException("training option EarlyStoppingPatience needs an evaluator", nameof(TrainingOptions.EarlyStoppingPatience));
            if (options.LoadBestAtEnd) throw new ArgumentException("training option LoadBestAtEnd needs an evaluator", nameof(TrainingOptions.LoadBestAtEnd));
        }
        if (trainData.BatchesPerEpoch <= 0) throw new ArgumentException("the training data has no batches (BatchesPerEpoch is 0)", nameof(trainData));
        TotalSteps = options.MaxSteps > 0
            ? options.MaxSteps
            : (options.Epochs * (long)trainData.BatchesPerEpoch + options.GradientAccumulationSteps - 1) / options.GradientAccumulationSteps;
        _warmupSteps = LearningRateSchedules.WarmupSteps(options, TotalSteps);
    }

    /// <summary>The options of this run.</summary>
    public TrainingOptions Options { get; }

    /// <summary>
    /// Optimizer steps of the whole run: <see cref="TrainingOptions.MaxSteps"/>, or every micro-batch of
    /// <see cref="TrainingOptions.Epochs"/> epochs in groups of <see cref="TrainingOptions.GradientAccumulationSteps"/>
    /// (the last group may be smaller).
    /// </summary>
    public long TotalSteps { get; }

    /// <summary>Learning rate of optimizer step <paramref name="step"/> (0-based).</summary>
    public double LearningRateAt(long step) =>
        Options.LearningRate * LearningRateSchedules.Multiplier(Options.Schedule, step, TotalSteps, _warmupSteps);

    /// <summary>Trains from the start: seeds the CPU generator with <see cref="TrainingOptions.Seed"/> and runs every step.</summary>
    /// <exception cref="TrainingDivergedException">Too many consecutive steps had a non-finite loss or gradient.</exception>
    public TrainingResult Train(IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Run(null, progress, cancellationToken);

    /// <summary>
    /// Continues the run that wrote <paramref name="checkpointDirectory"/> (see <see cref="TrainingCheckpoint"/>) on this
    /// trainer's model, which must be built as that run's was: trainable parameters, optimizer state, generator state,
    /// data position and best-so-far are restored, so the result is bit for bit that of an uninterrupted run.
    /// </summary>
    /// <exception cref="ArgumentException">An option that shapes the trajectory differs from the checkpoint's.</exception>
    /// <exception cref="CheckpointFormatException">A checkpoint file is missing or malformed.</exception>
    /// <exception cref="WeightMismatchException">The checkpoint's parameters are not this model's trainable ones.</exception>
    public TrainingResult Resume(string checkpointDirectory, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var contents = TrainingCheckpoint.Read(checkpointDirectory);
        var differences = TrainingCheckpoint.Differences(contents.Options, Options);
        if (differences.Count > 0)
            throw new ArgumentException($"{checkpointDirectory}: the options differ from the checkpoint's: {string.Join("; ", differences)}", nameof(checkpointDirectory));
        return Run(contents, progress, cancellationToken);
    }

    TrainingResult Run(TrainingCheckpoint.Contents? resumed, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        if (_started) throw new InvalidOperationException("a Trainer runs once; build a new one (and Resume from a checkpoint) to continue");
        _started = true;
        if (Options.GradientCheckpointing) EnableCheckpointing();
        _model.train();
        using var parameters = TrainableParameters.Collect(_model, Options.Precision);
        using var optimizer = new TrainingOptimizer(parameters, Options);
        var session = new TrainingSession(this, parameters, optimizer, resumed);
        try
        {
            return session.Run(progress, cancellationToken);
        }
        finally
        {
            session.Dispose();
        }
    }

    void EnableCheckpointing()
    {
        var transformers = _model.named_modules().Select(m => m.module).Prepend(_model).OfType<TransformerModel>().ToList();
        if (transformers.Count == 0)
            throw new ArgumentException("training option GradientCheckpointing needs a TransformerModel inside the model", nameof(TrainingOptions.GradientCheckpointing));
        foreach (var transformer in transformers) transformer.GradientCheckpointing = true;
    }

    /// <summary>One run of the loop: the mutable state a trainer's single run keeps.</summary>
    sealed class TrainingSession : IDisposable
    {
        readonly Trainer _trainer;
        readonly TrainingOptions _options;
        readonly TrainableParameters _parameters;
        readonly TrainingOptimizer _optimizer;
        readonly BatchStream _stream;
        readonly MetricsLog? _log;
        readonly List<TrainingProgress> _history = new();
        readonly Stopwatch _clock = Stopwatch.StartNew();
        readonly Stopwatch _interval = Stopwatch.StartNew();
        TrainerState _state;
        Dictionary<string, Tensor>? _best;
        long _sessionSteps, _intervalTokens, _checkpointStep = -1;
        double _intervalLoss, _lastLoss = double.NaN;
        int _intervalCount;
        string? _lastCheckpoint;

        public TrainingSession(Trainer trainer, TrainableParameters parameters, TrainingOptimizer optimizer, TrainingCheckpoint.Contents? resumed)
        {
            _trainer = trainer;
            _options = trainer.Options;
            _parameters = parameters;
            _optimizer = optimizer;
            _state = new TrainerState();
            if (resumed is null)
            {
                using var _ = manual_seed(_options.Seed);
            }
            else
            {
                parameters.Load(resumed.Trainable, TrainingCheckpoint.TrainableFile);
                optimizer.Load(resumed.Optimizer, resumed.State.OptimizerSteps, TrainingCheckpoint.OptimizerFile);
                _best = resumed.Best?.ToDictionary(b => b.Key, b => b.Value.clone().DetachFromDisposeScope(), StringComparer.Ordinal);
                _state = resumed.State;
                _checkpointStep = _state.Step;
                RandomState.Restore(resumed.RandomState);
            }
            _stream = new BatchStream(trainer._data, _options.Seed, _state.MicroBatches);
            _log = _options.OutputDirectory is { } directory ? MetricsLog.Open(directory, resumed?.State.Step) : null;
        }

        long Total => _trainer.TotalSteps;

        public TrainingResult Run(IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
        {
            var reason = TrainingStopReason.Completed;
            while (_state.Step < Total)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    reason = TrainingStopReason.Cancelled;
                    break;
                }
                var step = TrainStep();
                bool stop = Evaluate(out var evaluation);
                if (_state.Step % _options.LoggingSteps == 0 || evaluation is not null || _state.Step == Total)
                    Report(step, evaluation, progress);
                if (_options.SaveSteps > 0 && _state.Step % _options.SaveSteps == 0) Checkpoint();
                if (stop)
                {
                    reason = TrainingStopReason.EarlyStopped;
                    break;
                }
            }
            if (_options.OutputDirectory is not null && _checkpointStep != _state.Step) Checkpoint();
            if (_options.LoadBestAtEnd && _best is not null) _parameters.Load(_best, "the best evaluation's parameters");
            return new TrainingResult
            {
                StopReason = reason,
                Steps = _state.Step,
                TotalSteps = Total,
                FinalLoss = _lastLoss,
                SkippedSteps = _state.SkippedSteps,
                BestMetric = _state.BestMetric,
                BestStep = _state.BestStep,
                LastEvaluation = _state.LastEvaluation,
                LastCheckpoint = _lastCheckpoint,
                History = _history,
            };
        }

        /// <summary>What one optimizer step did.</summary>
        readonly record struct StepOutcome(double Loss, double LearningRate, double GradNorm, bool Skipped);

        /// <summary>
        /// Accumulates the gradients of this step's micro-batches (each loss scaled by 1 / their count), then clips and
        /// takes an AdamW step, unless a loss or the gradient norm is not finite: then the step is skipped and counted.
        /// </summary>
        StepOutcome TrainStep()
        {
            long step = _state.Step;
            long remaining = _options.MaxSteps > 0 ? long.MaxValue : _options.Epochs * (long)_trainer._data.BatchesPerEpoch - _stream.Position;
            int micro = (int)Math.Min(_options.GradientAccumulationSteps, remaining);
            double lossSum = 0;
            string? nonFinite = null;
            for (int i = 0; i < micro; i++)
            {
                using var batch = _stream.Next();
                using var scope = NewDisposeScope();
                _intervalTokens += batch.Tokens;
                var outputs = _trainer._model.call(batch.Inputs);
                if (_options.Precision == TrainingPrecision.BFloat16) outputs = InFloat32(outputs);
                var loss = _trainer._objective.Loss(outputs, batch);
                double value = loss.detach().to(ScalarType.Float64).item<double>();
                lossSum += value;
                if (!double.IsFinite(value)) nonFinite ??= $"loss {value} on micro-batch {i + 1} of {micro}";
                else if (nonFinite is null) (loss / micro).backward();
            }

            double learningRate = _trainer.LearningRateAt(step);
            double norm = double.NaN;
            using (var scope = NewDisposeScope())
            {
                if (nonFinite is null)
                {
                    _parameters.GradientsToMasters();
                    norm = _parameters.GradientNorm();
                    if (!double.IsFinite(norm)) nonFinite = $"gradient norm {norm}";
                }
                if (nonFinite is null)
                {
                    _parameters.ClipGradients(norm, _options.MaxGradNorm);
                    _optimizer.SetLearningRate(learningRate);
                    _optimizer.Step();
                    _parameters.MastersToModel();
                }
                _parameters.ClearGradients();
            }

            _sessionSteps++;
            bool skipped = nonFinite is not null;
            _state = _state with
            {
                Step = step + 1,
                MicroBatches = _stream.Position,
                Epoch = _stream.Epoch,
                BatchInEpoch = _stream.BatchInEpoch,
                SkippedSteps = _state.SkippedSteps + (skipped ? 1 : 0),
                ConsecutiveSkipped = skipped ? _state.ConsecutiveSkipped + 1 : 0,
            };
            if (skipped && _state.ConsecutiveSkipped >= _options.MaxConsecutiveNonFiniteSteps)
                throw new TrainingDivergedException(_state.Step, _state.ConsecutiveSkipped, nonFinite!);
            double meanLoss = lossSum / micro;
            if (!skipped)
            {
                _lastLoss = meanLoss;
                _intervalLoss += meanLoss;
                _intervalCount++;
            }
            return new StepOutcome(meanLoss, learningRate, norm, skipped);
        }

        /// <summary>bf16 models: the loss is computed from float32 outputs.</summary>
        static ModelOutputs InFloat32(ModelOutputs outputs)
        {
            static Tensor? Float(Tensor? t) => t is null || t.dtype == ScalarType.Float32 || !t.is_floating_point() ? t : t.to(ScalarType.Float32);
            return outputs with { LastHiddenState = Float(outputs.LastHiddenState)!, Logits = Float(outputs.Logits), PooledOutput = Float(outputs.PooledOutput) };
        }

        /// <summary>
        /// Evaluates when due (every EvalSteps and at the last step) and tracks the best state; true when early stopping
        /// says stop. Evaluation runs in eval mode without gradients and leaves the generator as it found it, so it does
        /// not change the training trajectory.
        /// </summary>
        bool Evaluate(out IReadOnlyDictionary<string, double>? metrics)
        {
            metrics = null;
            var evaluator = _trainer._evaluator;
            bool due = (_options.EvalSteps > 0 && _state.Step % _options.EvalSteps == 0) || _state.Step == Total;
            if (evaluator is null || !due) return false;

            var model = _trainer._model;
            var generator = RandomState.Capture();
            model.eval();
            try
            {
                using var _ = no_grad();
                using var scope = NewDisposeScope();
                metrics = evaluator.Evaluate(model);
            }
            finally
            {
                model.train();
                RandomState.Restore(generator);
            }
            if (!metrics.TryGetValue(evaluator.PrimaryMetric, out double value))
                throw new InvalidOperationException(
                    $"the evaluator's primary metric '{evaluator.PrimaryMetric}' is not among its results ({string.Join(", ", metrics.Keys)})");

            double threshold = _options.EarlyStoppingThreshold;
            bool improved = double.IsFinite(value) && (_state.BestMetric is not double best
                || (evaluator.HigherIsBetter ? value > best + threshold : value < best - threshold));
            if (improved)
            {
                DisposeBest();
                _best = _parameters.Snapshot();
                _state = _state with { BestMetric = value, BestStep = _state.Step, EvaluationsWithoutImprovement = 0 };
            }
            else
            {
                _state = _state with { EvaluationsWithoutImprovement = _state.EvaluationsWithoutImprovement + 1 };
            }
            _state = _state with { LastEvaluation = new Dictionary<string, double>(metrics, StringComparer.Ordinal) };
            return _options.EarlyStoppingPatience > 0 && _state.EvaluationsWithoutImprovement >= _options.EarlyStoppingPatience;
        }

        void Report(StepOutcome step, IReadOnlyDictionary<string, double>? evaluation, IProgress<TrainingProgress>? progress)
        {
            double seconds = _interval.Elapsed.TotalSeconds;
            var elapsed = _clock.Elapsed;
            var report = new TrainingProgress
            {
                Step = _state.Step,
                TotalSteps = Total,
                Epoch = (double)_stream.Position / _trainer._data.BatchesPerEpoch,
                Loss = _intervalCount > 0 ? _intervalLoss / _intervalCount : double.NaN,
                LearningRate = step.LearningRate,
                GradNorm = step.GradNorm,
                TokensPerSecond = seconds > 0 ? _intervalTokens / seconds : 0,
                Elapsed = elapsed,
                Eta = TimeSpan.FromSeconds(elapsed.TotalSeconds / Math.Max(1, _sessionSteps) * (Total - _state.Step)),
                SkippedSteps = _state.SkippedSteps,
                Evaluation = evaluation,
            };
            _history.Add(report);
            _log?.Write(report);
            progress?.Report(report);
            (_intervalLoss, _intervalCount, _intervalTokens) = (0, 0, 0);
            _interval.Restart();
        }

        void Checkpoint()
        {
            var (moments, steps) = _optimizer.State();
            var contents = new TrainingCheckpoint.Contents(
                _state with { OptimizerSteps = steps },
                _options,
                _parameters.Values().ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal),
                moments.ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal),
                RandomState.Capture(),
                _best);
            // The contents are the live tensors: written, not disposed.
            _lastCheckpoint = TrainingCheckpoint.Write(_options.OutputDirectory!, contents, _options.SaveTotalLimit);
            _checkpointStep = _state.Step;
        }

        void DisposeBest()
        {
            foreach (var tensor in _best?.Values ?? Enumerable.Empty<Tensor>()) tensor.Dispose();
            _best = null;
        }

        public void Dispose()
        {
            DisposeBest();
            _stream.Dispose();
            _log?.Dispose();
        }
    }
}
