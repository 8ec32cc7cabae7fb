using System.CommandLine;
using PeftSharp.Cli.Inspection;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace PeftSharp.Cli.Commands;

/// <summary>
/// <c>peft inspect --model PATH [--adapter DIR] [--json]</c>: architecture, config sizes, module tree with parameter
/// counts (repeated blocks collapsed), unique parameter total; with an adapter, its method, options, attachment points
/// and trainable share.
/// </summary>
static class InspectCommand
{
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model("Hugging Face model directory (config.json + weights) or .gguf file");
        var adapter = CommonOptions.Adapter("Adapter directory (adapter_config.json + adapter_model.safetensors) to load onto the model");
        var json = CommonOptions.Json();
        var command = new Command("inspect", "Show a model's architecture, config, module tree and parameter counts, and an adapter's method and reach")
        {
            model, adapter, json,
        };
        command.SetAction(parse => Run(console, parse.GetValue(model)!, parse.GetValue(adapter), parse.GetValue(json)));
        return command;
    }

    static int Run(CliConsole console, string modelPath, string? adapterPath, bool json)
    {
        var source = ModelSource.Resolve(modelPath);
        var (modelSummary, adapterSummary) = console.Status("Loading model", json, () =>
        {
            var model = source.Load().Model;
            // Summarise the base before the adapter wraps some of its layers.
            var summary = ModelSummary.Of(source, model);
            return (summary, adapterPath is null ? null : AdapterSummary.Load(model, adapterPath));
        });

        if (json)
        {
            var document = modelSummary.ToJson();
            if (adapterSummary is not null) document["adapter"] = adapterSummary.ToJson();
            console.WriteJson(document);
            return ExitCodes.Success;
        }
        WriteModel(console.Ansi, modelSummary);
        if (adapterSummary is not null) WriteAdapter(console.Ansi, adapterSummary);
        return ExitCodes.Success;
    }

    static void WriteModel(IAnsiConsole ansi, ModelSummary summary)
    {
        var facts = KeyValues(new[]
        {
            ("model", $"{summary.Source.Path} ({summary.Source.FormatName})"),
            ("architecture", summary.Architecture),
            ("model_type", summary.ModelType),
            ("dtype", summary.DType),
        }.Concat(summary.Sizes.Select(s => (s.Key, s.Value?.ToJsonString() ?? "null"))));
        ansi.Write(facts);
        ansi.WriteLine();

        var tree = new Tree(Label(summary.Tree)) { Guide = TreeGuide.Line };
        AddChildren(tree, summary.Tree);
        ansi.Write(tree);
        ansi.WriteLine();

        string tied = summary.Tied.Count == 0 ? "" : $" (tied weights counted once: {string.Join(", ", summary.Tied.Select(t => $"{t.Key} = {t.Value}"))})";
        ansi.MarkupLine($"[bold]parameters:[/] {Numbers.Count(summary.UniqueParameters)}{Markup.Escape(tied)}");
    }

    static void AddChildren(IHasTreeNodes parent, ModuleNode node)
    {
        foreach (var child in node.Children) AddChildren(parent.AddNode(Label(child)), child);
    }

    /// <summary>"name (Type) 12,345", "layers.0-4 (5 x Type) 12,345 each", shared parameters noted.</summary>
    static IRenderable Label(ModuleNode node)
    {
        string type = node.Repeat > 1 ? $"{node.Repeat} x {node.Type}" : node.Type;
        string count = node.Repeat > 1 ? $"{Numbers.Count(node.ParametersEach)} each" : Numbers.Count(node.Parameters);
        string name = node.Name.Length == 0 ? "" : $"[bold]{Markup.Escape(node.Name)}[/] ";
        string shared = node.Shared.Count == 0 ? "" : $" [grey]shared: {Markup.Escape(string.Join(", ", node.Shared))}[/]";
        return new Markup($"{name}[grey]({Markup.Escape(type)})[/] {count}{shared}");
    }

    static void WriteAdapter(IAnsiConsole ansi, AdapterSummary adapter)
    {
        ansi.WriteLine();
        ansi.Write(KeyValues(new[]
        {
            ("adapter", adapter.Path),
            ("peft_type", $"{adapter.PeftType}: {adapter.Description}"),
            ("task_type", adapter.TaskType ?? "-"),
            ("base_model", adapter.BaseModel ?? "-"),
        }.Concat(adapter.Options.Select(o => (o.Key, o.Value?.ToJsonString() ?? "null")))));
        ansi.WriteLine();

        var table = new Table { Border = TableBorder.Simple }
            .AddColumn("adapted module")
            .AddColumn("layer")
            .AddColumn(new TableColumn("count").RightAligned())
            .AddColumn(new TableColumn("parameters each").RightAligned());
        foreach (var group in adapter.Attachments)
            table.AddRow(Markup.Escape(group.Path), Markup.Escape(group.Type), group.Count.ToString(), Numbers.Count(group.ParametersEach));
        table.Caption($"{adapter.AdaptedModules} adapted modules");
        ansi.Write(table);
        if (adapter.IgnoredFields.Count > 0)
            ansi.MarkupLine($"[yellow]ignored adapter_config.json fields:[/] {Markup.Escape(string.Join(", ", adapter.IgnoredFields))}");
        ansi.WriteLine(adapter.Share.ToString());
    }

    /// <summary>A borderless two-column listing.</summary>
    static Grid KeyValues(IEnumerable<(string Key, string Value)> rows)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        foreach (var (key, value) in rows) grid.AddRow(new Markup($"[bold]{Markup.Escape(key)}[/]"), new Text(value));
        return grid;
    }
}
