using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PeftSharp.Data.Catalog;
using PeftSharp.IO;
using PeftSharp.Models;
using PeftSharp.Tasks;
using PeftSharp.Tokenization;
using PeftSharp.Tokenization.Training;
using PeftSharp.Training;
using static TorchSharp.torch;

namespace PeftSharp.Experiments;

/// <summary>
/// Pretrains a small model from scratch with the library itself (<c>peft pretrain</c>): trains a tokenizer on the
/// corpora (uncased WordPiece for an encoder, byte-level BPE for a decoder), builds a BERT masked LM or a GPT-2 causal
/// LM with <see cref="AutoModel.Create"/>, trains it with the <see cref="Trainer"/> and the masked / causal
/// language-modelling task, measures the held-out loss, and writes a Hugging Face model directory: config.json,
/// model.safetensors (bf16), the tokenizer files, metrics.jsonl and pretrain.json (command, options, corpora versions,
/// metrics, duration). The same options and thread count give the same files (pretrain.json's timings aside).
/// Checkpoints go to &lt;directory&gt;/.run while training; an interrupted run continues with <c>resume: true</c>.
/// </summary>
public static class Pretraining
{
    /// <summary>The record of the run, beside the weights.</summary>
    public const string RecordFile = "pretrain.json";

    /// <summary>Where checkpoints live until the run finishes.</summary>
    public const string RunFolder = ".run";

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Runs (or with <paramref name="resume"/> continues) the pretraining described by <paramref name="options"/> into <paramref name="directory"/>.</summary>
    /// <param name="options">What to train.</param>
    /// <param name="directory">The model directory to write.</param>
    /// <param name="progress">Stages and training reports.</param>
    /// <param name="resume">Continue from the newest checkpoint in &lt;directory&gt;/.run (same options required).</param>
    /// <param name="commandLine">The command that started the run, recorded in pretrain.json.</param>
    /// <param name="cacheDirectory">The dataset cache.</param>
    /// <param name="cancellation">Stops training after the current step, writing a checkpoint.</param>
    /// <exception cref="ArgumentException">An option is invalid, or <paramref name="resume"/> finds no checkpoint.</exception>
    public static PretrainingResult Run(PretrainingOptions options, string directory, IProgress<PretrainingProgress>? progress = null, bool resume = false,
        string? commandLine = null, string? cacheDirectory = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options.Validate();
        string run = Path.Combine(directory, RunFolder);
        string? checkpoint = resume
            ? TrainingCheckpoint.Latest(run) ?? throw new ArgumentException($"{run}: no checkpoint to resume from", nameof(resume))
            : null;
        var clock = Stopwatch.StartNew();
        var started = DateTime.UtcNow;
        void Report(string stage, string message) => progress?.Report(new PretrainingProgress(stage, message));
        using var threads = TorchThreads.Use(options.Threads);

        var corpus = PretrainingCorpus.Load(options.Corpora, options.SequenceLength, options.HeldOutSequences, cacheDirectory,
            new InlineProgress<DatasetProgress>(p => Report("data", $"{p.Dataset}: {p.Message}")));
        Report("data", $"{corpus.Corpora.Sum(c => c.TrainTexts):N0} texts ({corpus.Corpora.Sum(c => c.TrainCharacters) / 1e6:F1} M characters) in {corpus.Train.Count:N0} blocks");

        Directory.CreateDirectory(directory);
        var trained = TrainTokenizer(options, corpus, directory);
        Report("tokenizer", $"{trained.Kind} vocabulary of {trained.Vocabulary.Count:N0} tokens from {trained.DistinctWords:N0} distinct words");
        var tokenizer = PretrainedTokenizer.FromDirectory(directory);

        var config = ModelConfigFor(options, tokenizer);
        var head = options.Kind == PretrainingKind.Encoder ? ModelTask.MaskedLM : ModelTask.CausalLM;
        var dtype = options.Precision == TrainingPrecision.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32;
        var model = AutoModel.Create(config, head, dtype, options.Seed);
        long parameters = ParameterCounts.Unique(model);

        var batching = new BatchingOptions { BatchSize = options.BatchSize, MaxLength = options.SequenceLength };
        TrainingTask<Data.LanguageModelingExample> task = options.Kind == PretrainingKind.Encoder
            ? new MaskedLanguageModelingTask(tokenizer, batching)
            : new CausalLanguageModelingTask(tokenizer, batching);
        var trainData = task.Batches(corpus.Train);
        var heldOut = task.Evaluator(corpus.HeldOut);
        int sequences = trainData.BatchesPerEpoch * options.BatchSize;
        Report("model", $"{model.Architecture}: {parameters:N0} parameters; {trainData.BatchesPerEpoch:N0} batches of {options.BatchSize} × ≤{options.SequenceLength} tokens per epoch");

        var training = new TrainingOptions
        {
            LearningRate = options.LearningRate,
            WarmupRatio = options.WarmupRatio,
            Schedule = LearningRateSchedule.Linear,
            MaxSteps = options.Steps,
            Precision = options.Precision,
            Seed = options.Seed,
            EvalSteps = options.EvalSteps,
            OutputDirectory = run,
            SaveSteps = options.SaveSteps,
            SaveTotalLimit = 1,
            LoggingSteps = options.LoggingSteps,
        };
        var trainer = new Trainer(model, task, trainData, training, heldOut);
        var reports = new InlineProgress<TrainingProgress>(p => progress?.Report(new PretrainingProgress("train", $"step {p.Step}/{p.TotalSteps}", p)));
        var result = checkpoint is null ? trainer.Train(reports, cancellation) : trainer.Resume(checkpoint, reports, cancellation);

        var summary = new PretrainingResult
        {
            Directory = directory,
            StopReason = result.StopReason,
            ModelType = config.ModelType,
            Parameters = parameters,
            VocabSize = tokenizer.VocabSize,
            Steps = result.Steps,
            TrainingSequences = sequences,
            FinalTrainLoss = result.History.LastOrDefault(h => double.IsFinite(h.Loss))?.Loss ?? double.NaN,
            HeldOut = result.LastEvaluation,
            TokensPerSecond = result.History.Count > 0 ? result.History.Average(h => h.TokensPerSecond) : 0,
            Duration = clock.Elapsed,
        };
        if (result.StopReason == TrainingStopReason.Cancelled) return summary;

        Report("save", $"writing {directory}");
        var written = PretrainedModelFiles.Save(model, directory);
        File.Copy(Path.Combine(run, "metrics.jsonl"), Path.Combine(directory, "metrics.jsonl"), overwrite: true);
        var history = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!)
            .Where(l => l["eval_loss"] is not null).Select(l => (JsonNode)new JsonObject { ["step"] = l["step"]!.GetValue<long>(), ["loss"] = l["eval_loss"]!.GetValue<double>() })
            .ToArray();
        summary = summary with { Duration = clock.Elapsed };
        var record = Record(options, summary, corpus, trained, written, history, commandLine, started);
        AtomicFile.WriteText(Path.Combine(directory, RecordFile), record.ToJsonString(Indented));
        Directory.Delete(run, recursive: true);
        return summary with { Files = Directory.EnumerateFiles(directory).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToList() };
    }

    static TrainedTokenizer TrainTokenizer(PretrainingOptions options, PretrainingCorpus corpus, string directory)
    {
        var tokenizer = options.Kind == PretrainingKind.Encoder
            ? new WordPieceTrainer(new WordPieceTrainerOptions { VocabSize = options.VocabSize, ModelMaxLength = options.SequenceLength }).Train(corpus.Texts)
            : new ByteLevelBpeTrainer(new ByteLevelBpeTrainerOptions { VocabSize = options.VocabSize, ModelMaxLength = options.SequenceLength }).Train(corpus.Texts);
        tokenizer.Save(directory);
        return tokenizer;
    }

    /// <summary>config.json of the model to train: BERT (masked LM) or GPT-2 (causal LM) with Hugging Face's defaults otherwise.</summary>
    static ModelConfig ModelConfigFor(PretrainingOptions options, PretrainedTokenizer tokenizer)
    {
        var json = options.Kind == PretrainingKind.Encoder
            ? new JsonObject
            {
                ["model_type"] = "bert", ["architectures"] = new JsonArray("BertForMaskedLM"),
                ["vocab_size"] = tokenizer.VocabSize, ["hidden_size"] = options.Hidden, ["num_hidden_layers"] = options.Layers,
                ["num_attention_heads"] = options.Heads, ["intermediate_size"] = options.IntermediateSize, ["hidden_act"] = "gelu",
                ["hidden_dropout_prob"] = 0.1, ["attention_probs_dropout_prob"] = 0.1, ["max_position_embeddings"] = options.SequenceLength,
                ["type_vocab_size"] = 2, ["initializer_range"] = 0.02, ["layer_norm_eps"] = 1e-12,
                ["pad_token_id"] = tokenizer.PadTokenId ?? 0, ["position_embedding_type"] = "absolute", ["tie_word_embeddings"] = true,
            }
            : new JsonObject
            {
                ["model_type"] = "gpt2", ["architectures"] = new JsonArray("GPT2LMHeadModel"),
                ["vocab_size"] = tokenizer.VocabSize, ["n_embd"] = options.Hidden, ["n_layer"] = options.Layers, ["n_head"] = options.Heads,
                ["n_inner"] = options.IntermediateSize, ["n_positions"] = options.SequenceLength, ["activation_function"] = "gelu_new",
                ["resid_pdrop"] = 0.1, ["embd_pdrop"] = 0.1, ["attn_pdrop"] = 0.1, ["layer_norm_epsilon"] = 1e-5, ["initializer_range"] = 0.02,
                ["bos_token_id"] = tokenizer.BosTokenId ?? 0, ["eos_token_id"] = tokenizer.EosTokenId ?? 0,
                ["pad_token_id"] = tokenizer.PadTokenId ?? tokenizer.EosTokenId ?? 0, ["tie_word_embeddings"] = true,
            };
        var family = ModelFamilies.ForModelType(json["model_type"]!.GetValue<string>(), "pretraining config");
        return family.ParseConfig(new ConfigReader(json, "pretraining config"));
    }

    static JsonObject Record(PretrainingOptions options, PretrainingResult result, PretrainingCorpus corpus, TrainedTokenizer tokenizer,
        JsonObject config, JsonNode[] history, string? commandLine, DateTime started)
    {
        static double? Finite(double value) => double.IsFinite(value) ? Math.Round(value, 6) : null;
        return new JsonObject
        {
            ["command"] = commandLine,
            ["seed"] = options.Seed,
            ["kind"] = options.Kind.ToString().ToLowerInvariant(),
            ["options"] = JsonSerializer.SerializeToNode(options, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }),
            ["corpora"] = new JsonArray(corpus.Corpora.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name, ["package"] = c.Package, ["sha256"] = c.Sha256, ["train_texts"] = c.TrainTexts,
                ["train_characters"] = c.TrainCharacters, ["held_out_texts"] = c.HeldOutTexts,
            }).ToArray()),
            ["tokenizer"] = new JsonObject
            {
                ["type"] = tokenizer.Kind.ToString(), ["vocab_size"] = tokenizer.Vocabulary.Count, ["lowercase"] = tokenizer.Lowercase,
                ["distinct_words"] = tokenizer.DistinctWords,
            },
            ["model"] = new JsonObject
            {
                ["model_type"] = result.ModelType, ["architecture"] = config["architectures"]![0]!.GetValue<string>(), ["parameters"] = result.Parameters,
                ["hidden_size"] = options.Hidden, ["layers"] = options.Layers, ["heads"] = options.Heads, ["intermediate_size"] = options.IntermediateSize,
                ["max_positions"] = options.SequenceLength, ["saved_dtype"] = "bfloat16",
                ["pooler"] = options.Kind == PretrainingKind.Encoder ? "identity (W = I, b = 0): masked-LM pretraining does not train BERT's pooler" : null,
            },
            ["training"] = new JsonObject
            {
                ["objective"] = options.Kind == PretrainingKind.Encoder ? "masked language modelling (15% of tokens; 80/10/10)" : "next-token prediction",
                ["steps"] = result.Steps, ["batch_size"] = options.BatchSize, ["sequence_length"] = options.SequenceLength,
                ["sequences_per_epoch"] = result.TrainingSequences,
                ["epochs"] = Math.Round((double)result.Steps * options.BatchSize / result.TrainingSequences, 3),
                ["precision"] = options.Precision.ToString(), ["threads"] = options.Threads,
                ["final_train_loss"] = Finite(result.FinalTrainLoss),
                ["tokens_per_second"] = Math.Round(result.TokensPerSecond, 1),
            },
            ["held_out"] = new JsonObject
            {
                ["sequences"] = options.HeldOutSequences,
                ["loss"] = Finite(result.HeldOut?.GetValueOrDefault("loss") ?? double.NaN),
                ["perplexity"] = Finite(result.HeldOut?.GetValueOrDefault("perplexity") ?? double.NaN),
                ["token_accuracy"] = Finite(result.HeldOut?.GetValueOrDefault("token_accuracy") ?? double.NaN),
                ["history"] = new JsonArray(history),
            },
            ["started_utc"] = started.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["duration_seconds"] = Math.Round(result.Duration.TotalSeconds, 1),
            ["software"] = new JsonObject
            {
                ["peftsharp"] = typeof(Pretraining).Assembly.GetName().Version?.ToString(),
                ["torchsharp"] = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(),
                ["os"] = Environment.OSVersion.ToString(),
                ["processors"] = Environment.ProcessorCount,
            },
        };
    }
}
