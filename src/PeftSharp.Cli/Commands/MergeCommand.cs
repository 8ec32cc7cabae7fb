using System.CommandLine;
using System.Text.Json.Nodes;
using PeftSharp.IO.Gguf;
using PeftSharp.Models;
using PeftSharp.Tuners;
using Spectre.Console;
using static TorchSharp.torch;

namespace PeftSharp.Cli.Commands;

/// <summary>
/// <c>peft merge --model DIR --adapter DIR --out DIR [--dtype float32|bfloat16] [--safe] [--force]</c>: folds an
/// adapter into the base weights and writes a plain Hugging Face model directory with the base's tokenizer files.
/// </summary>
static class MergeCommand
{
    /// <summary>Files beside a base model that belong with the merged one (tokenizer and generation settings).</summary>
    static readonly string[] CompanionFiles =
    {
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "vocab.txt", "vocab.json",
        "merges.txt", "added_tokens.json", "generation_config.json",
    };

    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model("Base model: Hugging Face directory or .gguf file");
        var adapter = CommonOptions.Adapter("Adapter directory to merge into the base", required: true);
        var output = new Option<string>("--out", "-o") { Description = "Directory to write the merged model to", HelpName = "DIR", Required = true };
        var dtype = new Option<string?>("--dtype") { Description = "dtype of the saved weights (default: the base checkpoint's)", HelpName = "float32|bfloat16" };
        dtype.AcceptOnlyFromAmong("float32", "bfloat16");
        var safe = new Option<bool>("--safe") { Description = "Check merged weights for NaN/Inf before writing them into the model" };
        var force = new Option<bool>("--force") { Description = "Replace --out even if it is not empty" };
        var json = CommonOptions.Json();
        var command = new Command("merge", "Merge an adapter into its base model and save a plain Hugging Face model directory")
        {
            model, adapter, output, dtype, safe, force, json,
        };
        command.SetAction(parse => Run(console, parse.GetValue(model)!, parse.GetValue(adapter)!, parse.GetValue(output)!,
            parse.GetValue(dtype), parse.GetValue(safe), parse.GetValue(force), parse.GetValue(json)));
        return command;
    }

    static int Run(CliConsole console, string modelPath, string adapterPath, string outPath, string? dtypeName, bool safe, bool force, bool json)
    {
        var source = ModelSource.Resolve(modelPath);
        OutputDirectory.Check(outPath, force, modelPath, adapterPath);
        var written = console.Status("Merging", json, () =>
        {
            // Merge in float32 whatever the checkpoint's dtype, and round only when saving.
            var loaded = source.Load(new ModelLoadOptions { DType = ScalarType.Float32 });
            var saveType = dtypeName is null ? AutoModel.DefaultDType(loaded.Model.Config) : DTypeNames.Parse(dtypeName);
            var peft = PeftModel.Load(loaded.Model, adapterPath);
            string peftType = peft.Adapters.Values.Single().PeftType;
            int modules = peft.AdapterModules().Count();
            TransformerModel merged;
            try
            {
                merged = peft.MergeAndUnload(safe);
            }
            catch (InvalidOperationException e)
            {
                throw new CliUsageException($"{adapterPath}: {e.Message}", e);
            }
            var files = new List<string>();
            OutputDirectory.Publish(outPath, directory =>
            {
                ModelSaver.Save(merged, directory, dtype: saveType);
                CopyCompanions(source, directory);
                files.AddRange(Directory.EnumerateFiles(directory).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal));
            });
            return new Merged(peftType, modules, DTypeNames.ToHuggingFace(saveType), ParameterCounts.Unique(merged), files);
        });

        if (json)
        {
            console.WriteJson(new JsonObject
            {
                ["model"] = modelPath,
                ["adapter"] = adapterPath,
                ["peft_type"] = written.PeftType,
                ["merged_modules"] = written.Modules,
                ["out"] = outPath,
                ["dtype"] = written.DType,
                ["safe"] = safe,
                ["parameters"] = written.Parameters,
                ["files"] = new JsonArray(written.Files.Select(f => (JsonNode?)f).ToArray()),
            });
            return ExitCodes.Success;
        }
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        foreach (var (key, value) in new[]
        {
            ("base model", $"{modelPath} ({source.FormatName})"),
            ("adapter", $"{adapterPath} ({written.PeftType}, {written.Modules} modules)"),
            ("written to", outPath),
            ("dtype", written.DType),
            ("parameters", Numbers.Count(written.Parameters)),
            ("files", string.Join(", ", written.Files)),
        })
            grid.AddRow(new Markup($"[bold]{key}[/]"), new Text(value));
        console.Ansi.Write(grid);
        return ExitCodes.Success;
    }

    /// <summary>Copies the base's tokenizer files; for a GGUF base, writes its embedded SentencePiece vocabulary as tokenizer.model.</summary>
    static void CopyCompanions(ModelSource source, string directory)
    {
        if (source.IsGguf)
        {
            var tokenizer = GgufTokenizer.Read(source.Path);
            if (tokenizer.Model == "llama") File.WriteAllBytes(Path.Combine(directory, "tokenizer.model"), tokenizer.ToSentencePieceModel());
            return;
        }
        foreach (string name in CompanionFiles)
        {
            string from = Path.Combine(source.Path, name);
            if (File.Exists(from)) File.Copy(from, Path.Combine(directory, name));
        }
    }

    /// <summary>What was written.</summary>
    sealed record Merged(string PeftType, int Modules, string DType, long Parameters, IReadOnlyList<string> Files);
}
