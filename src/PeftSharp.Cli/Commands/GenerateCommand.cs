using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PeftSharp.Cli.Generation;
using PeftSharp.Generation;
using PeftSharp.Models;
using PeftSharp.Tokenization;
using PeftSharp.Tuners;
using Spectre.Console;
using Spectre.Console.Rendering;
using static TorchSharp.torch;

namespace PeftSharp.Cli.Commands;

/// <summary>
/// <c>peft generate --model PATH --prompt TEXT [...]</c>: continues a prompt with a causal language model (optionally
/// carrying an adapter), streaming the text, then reports tokens, tokens/s and time to first token.
/// </summary>
static class GenerateCommand
{
    /// <summary>Least time between two redraws of the live display.</summary>
    static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(50);

    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model("Causal language model: Hugging Face directory or .gguf file");
        var prompt = new Option<string>("--prompt", "-p") { Description = "Text to continue; \"\" starts from the BOS token alone", HelpName = "TEXT", Required = true };
        var adapter = CommonOptions.Adapter("Adapter directory to apply while generating");
        var maxNewTokens = new Option<int>("--max-new-tokens", "-n") { Description = "Most tokens to generate", HelpName = "N", DefaultValueFactory = _ => 64 };
        var temperature = new Option<double>("--temperature", "-t") { Description = "0 (default) picks the most likely token (greedy); above 0 samples from softmax(logits / T)", HelpName = "T" };
        var topK = new Option<int?>("--top-k") { Description = "When sampling, keep only the K most likely tokens", HelpName = "K" };
        var topP = new Option<double?>("--top-p") { Description = "When sampling, keep the most likely tokens whose probabilities reach P, in (0, 1]", HelpName = "P" };
        var seed = new Option<long?>("--seed") { Description = "Seed of the sampler, for repeatable samples", HelpName = "S" };
        var stop = new Option<string[]>("--stop")
        {
            Description = "Text that ends the completion (not included); repeatable; \\n, \\t and \\\\ are unescaped",
            HelpName = "TEXT",
            AllowMultipleArgumentsPerToken = true,
        };
        var json = CommonOptions.Json();
        var command = new Command("generate", "Continue a prompt with a causal language model, streaming the text")
        {
            model, prompt, adapter, maxNewTokens, temperature, topK, topP, seed, stop, json,
        };
        command.SetAction(parse =>
        {
            var options = new GenerationOptions
            {
                MaxNewTokens = parse.GetValue(maxNewTokens),
                Temperature = parse.GetValue(temperature),
                TopK = parse.GetValue(topK),
                TopP = parse.GetValue(topP),
                Seed = parse.GetValue(seed),
            };
            var stopTexts = (parse.GetValue(stop) ?? []).Select(Unescape).ToList();
            return Run(console, parse.GetValue(model)!, parse.GetValue(prompt)!, parse.GetValue(adapter), options, stopTexts, parse.GetValue(json));
        });
        return command;
    }

    static int Run(CliConsole console, string modelPath, string prompt, string? adapterPath, GenerationOptions options, IReadOnlyList<string> stopTexts, bool json)
    {
        options.Validate(); // before the (slow) model load
        var source = ModelSource.Resolve(modelPath);
        var (loaded, tokenizer, peft) = console.Status("Loading model", json, () =>
        {
            var model = source.Load();
            if (model.Model.Task != ModelTask.CausalLM)
                throw new CliUsageException($"{modelPath}: {model.Model.Architecture} is not a causal language model; generate needs a *ForCausalLM / *LMHeadModel");
            var tokens = source.LoadTokenizer();
            return (model, tokens, adapterPath is null ? null : PeftModel.Load(model.Model, adapterPath));
        });
        var transformer = loaded.Model;
        var promptIds = PromptIds(tokenizer, prompt, transformer.Config);
        options = options with { StopTokenIds = StopTokenIds(source, transformer.Config, tokenizer) };
        nn.Module<ModelInputs, ModelOutputs> runner = peft is null ? transformer : peft;

        GenerationOutcome outcome;
        if (json)
            outcome = StreamingGeneration.Run(runner, transformer.LayerCount, tokenizer, promptIds, options, stopTexts, (_, _) => { });
        else if (console.Interactive)
            outcome = GenerateLive(console, runner, transformer.LayerCount, tokenizer, prompt, promptIds, options, stopTexts);
        else
        {
            console.Out.Write(prompt);
            outcome = StreamingGeneration.Run(runner, transformer.LayerCount, tokenizer, promptIds, options, stopTexts, (text, _) =>
            {
                console.Out.Write(text);
                console.Out.Flush();
            });
        }

        if (json)
        {
            console.WriteJson(new JsonObject
            {
                ["model"] = modelPath,
                ["adapter"] = adapterPath,
                ["prompt"] = prompt,
                ["completion"] = outcome.Completion,
                ["prompt_tokens"] = outcome.PromptTokens,
                ["tokens"] = outcome.Tokens.Count,
                ["token_ids"] = new JsonArray(outcome.Tokens.Select(t => (JsonNode?)t).ToArray()),
                ["stop_reason"] = outcome.StopReasonName,
                ["tokens_per_second"] = outcome.TokensPerSecond,
                ["time_to_first_token_ms"] = outcome.TimeToFirstToken.TotalMilliseconds,
                ["elapsed_seconds"] = outcome.Elapsed.TotalSeconds,
                ["max_new_tokens"] = options.MaxNewTokens,
                ["temperature"] = options.Temperature,
                ["top_k"] = options.TopK,
                ["top_p"] = options.TopP,
                ["seed"] = options.Seed,
            });
            return ExitCodes.Success;
        }
        if (!outcome.Completion.EndsWith('\n')) console.Out.WriteLine();
        console.Out.Flush();
        console.Ansi.MarkupLine($"[grey]{outcome.Tokens.Count} tokens in {Numbers.Fixed(outcome.Elapsed.TotalSeconds, 2)} s, " +
            $"{Numbers.Fixed(outcome.TokensPerSecond, 1)} tokens/s, first token after {Numbers.Fixed(outcome.TimeToFirstToken.TotalMilliseconds, 0)} ms " +
            $"(stopped: {outcome.StopReasonName.Replace('_', ' ')})[/]");
        return ExitCodes.Success;
    }

    /// <summary>On a terminal: the text grows in a live display with a tokens/s figure, then stays on screen.</summary>
    static GenerationOutcome GenerateLive(CliConsole console, nn.Module<ModelInputs, ModelOutputs> model, int layerCount, PretrainedTokenizer tokenizer,
        string prompt, IReadOnlyList<int> promptIds, GenerationOptions options, IReadOnlyList<string> stopTexts)
    {
        var shown = new System.Text.StringBuilder(prompt);
        var live = new LiveDisplay(console.Ansi, View(prompt, null)) { AutoClear = true, Overflow = VerticalOverflow.Crop, Cropping = VerticalOverflowCropping.Top };
        var outcome = live.Start(context =>
        {
            var sinceRedraw = Stopwatch.StartNew();
            return StreamingGeneration.Run(model, layerCount, tokenizer, promptIds, options, stopTexts, (text, progress) =>
            {
                shown.Append(text);
                if (sinceRedraw.Elapsed < RedrawInterval) return;
                context.UpdateTarget(View(shown.ToString(), progress));
                sinceRedraw.Restart();
            });
        });
        console.Ansi.Write(new Text(prompt + outcome.Completion));
        return outcome;
    }

    static IRenderable View(string text, GenerationProgress? progress) => new Rows(
        new Text(text),
        new Markup(progress is null ? "[grey]…[/]" : $"[grey]{progress.TokensGenerated} tokens, {Numbers.Fixed(progress.TokensPerSecond, 1)} tokens/s[/]"));

    /// <summary>The prompt's ids with the tokenizer's special tokens; an empty prompt is the BOS token alone.</summary>
    static List<int> PromptIds(PretrainedTokenizer tokenizer, string prompt, ModelConfig config)
    {
        var ids = prompt.Length == 0 ? new List<int>() : tokenizer.Encode(prompt).Ids.ToList();
        if (ids.Count > 0) return ids;
        int bos = tokenizer.BosTokenId ?? config.BosTokenId
            ?? throw new CliUsageException("the prompt encodes to no tokens and neither the tokenizer nor config.json names a BOS token to start from");
        return new List<int> { bos };
    }

    /// <summary>EOS ids of config.json, generation_config.json (directories) and the tokenizer.</summary>
    static List<long> StopTokenIds(ModelSource source, ModelConfig config, PretrainedTokenizer tokenizer)
    {
        var ids = config.EosTokenIds.Select(id => (long)id).ToList();
        string generationConfig = Path.Combine(source.Path, "generation_config.json");
        if (!source.IsGguf && File.Exists(generationConfig))
            ids.AddRange(ConfigReader.FromFile(generationConfig).IntList("eos_token_id").Select(id => (long)id));
        if (tokenizer.EosTokenId is int eos) ids.Add(eos);
        return ids.Distinct().ToList();
    }

    /// <summary>"\n", "\t" and "\\" in a --stop value, so a newline can be given on any shell.</summary>
    static string Unescape(string text) => Regex.Replace(text, @"\\(.)", m => m.Groups[1].Value switch
    {
        "n" => "\n",
        "t" => "\t",
        "\\" => "\\",
        var other => "\\" + other,
    });
}
