using System.CommandLine;
using System.Text.Json.Nodes;
using PeftSharp.Cli.Training;
using PeftSharp.Experiments;
using PeftSharp.Training;
using Spectre.Console;

namespace PeftSharp.Cli.Commands;

/// <summary>
/// <c>peft pretrain --kind encoder|decoder --out DIR [...]</c>: trains a tokenizer and a small BERT masked LM or GPT-2
/// causal LM from scratch on the catalog's real-text corpora, and writes a Hugging Face model directory with
/// pretrain.json, the record that makes the run repeatable (see docs/pretraining.md).
/// </summary>
static class PretrainCommand
{
    public static Command Create(CliConsole console)
    {
        var defaults = new PretrainingOptions();
        var kind = new Option<string>("--kind") { Description = "encoder (BERT, masked LM, WordPiece) or decoder (GPT-2, causal LM, byte-level BPE)", HelpName = "encoder|decoder", DefaultValueFactory = _ => "encoder" };
        kind.AcceptOnlyFromAmong("encoder", "decoder");
        var output = new Option<string>("--out", "-o") { Description = "Model directory to write", HelpName = "DIR", Required = true };
        var corpora = new Option<string>("--corpora") { Description = "Comma-separated language-modelling datasets (catalog names or text/JSONL files)", HelpName = "A,B,...", DefaultValueFactory = _ => string.Join(",", PretrainingOptions.DefaultCorpora) };
        var vocab = new Option<int>("--vocab-size") { Description = "Tokenizer vocabulary size", HelpName = "N", DefaultValueFactory = _ => defaults.VocabSize };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size", HelpName = "N", DefaultValueFactory = _ => defaults.Hidden };
        var layers = new Option<int>("--layers") { Description = "Transformer blocks", HelpName = "N", DefaultValueFactory = _ => defaults.Layers };
        var heads = new Option<int>("--heads") { Description = "Attention heads", HelpName = "N", DefaultValueFactory = _ => defaults.Heads };
        var intermediate = new Option<int?>("--intermediate") { Description = "Feed-forward width (default 4 × hidden)", HelpName = "N" };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps", HelpName = "N", DefaultValueFactory = _ => defaults.Steps };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per sequence; also the model's position limit", HelpName = "N", DefaultValueFactory = _ => defaults.SequenceLength };
        var batch = new Option<int>("--batch-size") { Description = "Sequences per step", HelpName = "N", DefaultValueFactory = _ => defaults.BatchSize };
        var seed = new Option<long>("--seed") { Description = "Seed of weights, batch order, masks and dropout", HelpName = "S", DefaultValueFactory = _ => defaults.Seed };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (linear warm-up and decay)", HelpName = "LR", DefaultValueFactory = _ => defaults.LearningRate };
        var warmup = new Option<double>("--warmup-ratio") { Description = "Share of steps spent warming up", HelpName = "R", DefaultValueFactory = _ => defaults.WarmupRatio };
        var precision = TrainingFlags.Precision("fp32: all float32 (default); bf16: compute in bfloat16 from float32 master weights");
        var threads = new Option<int>("--threads") { Description = "libtorch threads; part of what makes the run repeatable", HelpName = "N", DefaultValueFactory = _ => defaults.Threads };
        var heldOut = new Option<int>("--held-out") { Description = "Held-out sequences for the validation loss", HelpName = "N", DefaultValueFactory = _ => defaults.HeldOutSequences };
        var evalSteps = new Option<int>("--eval-steps") { Description = "Held-out loss every N steps (0: at the end only)", HelpName = "N", DefaultValueFactory = _ => defaults.EvalSteps };
        var saveSteps = new Option<int>("--save-steps") { Description = "Checkpoint every N steps (0: only when interrupted)", HelpName = "N", DefaultValueFactory = _ => defaults.SaveSteps };
        var resume = new Option<bool>("--resume") { Description = "Continue an interrupted run from its checkpoint in DIR/.run (give the same options)" };
        var force = TrainingFlags.Force();
        var cache = new Option<string?>("--cache") { Description = "Dataset cache folder (default: $PEFTSHARP_DATASET_CACHE or ~/.cache/peftsharp/datasets)", HelpName = "DIR" };
        var json = CommonOptions.Json();
        var command = new Command("pretrain", "Pretrain a small encoder (masked LM) or decoder (causal LM) and its tokenizer from scratch on real text")
        {
            kind, output, corpora, vocab, hidden, layers, heads, intermediate, steps, seqLen, batch, seed, lr, warmup, precision, threads, heldOut,
            evalSteps, saveSteps, resume, force, cache, json,
        };
        command.SetAction(parse =>
        {
            var options = new PretrainingOptions
            {
                Kind = parse.GetValue(kind) == "decoder" ? PretrainingKind.Decoder : PretrainingKind.Encoder,
                Corpora = TrainingFlags.SplitList(parse.GetValue(corpora)!),
                VocabSize = parse.GetValue(vocab),
                Hidden = parse.GetValue(hidden),
                Layers = parse.GetValue(layers),
                Heads = parse.GetValue(heads),
                Intermediate = parse.GetValue(intermediate),
                Steps = parse.GetValue(steps),
                SequenceLength = parse.GetValue(seqLen),
                BatchSize = parse.GetValue(batch),
                Seed = parse.GetValue(seed),
                LearningRate = parse.GetValue(lr),
                WarmupRatio = parse.GetValue(warmup),
                Precision = parse.GetValue(precision) is { } p ? TrainingFlags.ParsePrecision(p) : defaults.Precision,
                Threads = parse.GetValue(threads),
                HeldOutSequences = parse.GetValue(heldOut),
                EvalSteps = parse.GetValue(evalSteps),
                SaveSteps = parse.GetValue(saveSteps),
            };
            return Run(console, options, parse.GetValue(output)!, parse.GetValue(resume), parse.GetValue(force), parse.GetValue(cache),
                TrainingFlags.CommandLine(parse), parse.GetValue(json));
        });
        return command;
    }

    static int Run(CliConsole console, PretrainingOptions options, string outPath, bool resume, bool force, string? cache, string commandLine, bool json)
    {
        options.Validate();
        if (!resume) OutputDirectory.Check(outPath, force);
        if (!resume && Directory.Exists(outPath)) Directory.Delete(outPath, recursive: true);
        using var cancel = new CancelOnCtrlC();
        var result = TrainingDisplay.Run(console, json, display =>
        {
            IProgress<TrainingProgress>? bar = null;
            var progress = new InlineProgress<PretrainingProgress>(p =>
            {
                if (p.Training is { } training) (bar ??= display.Training("pretrain")).Report(training);
                else display.Stage($"{p.Stage}: {p.Message}");
            });
            return Pretraining.Run(options, outPath, progress, resume, commandLine, cache, cancel.Token);
        });

        bool interrupted = result.StopReason == TrainingStopReason.Cancelled;
        string runFolder = Path.Combine(outPath, Pretraining.RunFolder);
        if (json)
        {
            console.WriteJson(new JsonObject
            {
                ["out"] = outPath,
                ["interrupted"] = interrupted,
                ["checkpoint"] = interrupted ? runFolder : null,
                ["model_type"] = result.ModelType,
                ["parameters"] = result.Parameters,
                ["vocab_size"] = result.VocabSize,
                ["steps"] = result.Steps,
                ["final_train_loss"] = Finite(result.FinalTrainLoss),
                ["held_out_loss"] = Finite(result.HeldOut?.GetValueOrDefault("loss")),
                ["held_out_perplexity"] = Finite(result.HeldOut?.GetValueOrDefault("perplexity")),
                ["tokens_per_second"] = result.TokensPerSecond,
                ["duration_seconds"] = result.Duration.TotalSeconds,
                ["files"] = new JsonArray(result.Files.Select(f => (JsonNode?)f).ToArray()),
            });
            return interrupted ? ExitCodes.Interrupted : ExitCodes.Success;
        }
        if (interrupted)
        {
            console.Error.WriteLine($"interrupted at step {result.Steps}: checkpoint in {runFolder}; run the same command with --resume to continue");
            return ExitCodes.Interrupted;
        }
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        foreach (var (key, value) in new[]
        {
            ("written to", outPath),
            ("model", $"{result.ModelType}, {Numbers.Count(result.Parameters)} parameters, vocabulary {Numbers.Count(result.VocabSize)}"),
            ("steps", $"{result.Steps} ({Numbers.Count(result.TrainingSequences)} sequences per epoch)"),
            ("train loss", Numbers.Fixed(result.FinalTrainLoss, 4)),
            ("held-out", result.HeldOut is { } h ? $"loss {Numbers.Fixed(h["loss"], 4)}, perplexity {Numbers.Fixed(h["perplexity"], 2)}, token accuracy {Numbers.Fixed(h["token_accuracy"], 4)}" : "n/a"),
            ("throughput", $"{Numbers.Count((long)result.TokensPerSecond)} tokens/s"),
            ("time", $"{Numbers.Fixed(result.Duration.TotalMinutes, 1)} min"),
            ("files", string.Join(", ", result.Files)),
        })
            grid.AddRow(new Markup($"[bold]{key}[/]"), new Text(value));
        console.Ansi.Write(grid);
        return ExitCodes.Success;
    }

    static double? Finite(double? value) => value is double v && double.IsFinite(v) ? v : null;
}
