using System.CommandLine;
using System.Text.Json.Nodes;
using PeftSharp.Tuners.Common;
using Spectre.Console;

namespace PeftSharp.Cli.Commands;

/// <summary><c>peft methods [--json]</c>: every fine-tuning method PeftSharp knows, by peft_type.</summary>
static class MethodsCommand
{
    public static Command Create(CliConsole console)
    {
        var json = CommonOptions.Json();
        var command = new Command("methods", "List the fine-tuning methods (peft_type values) PeftSharp can load, train and save") { json };
        command.SetAction(parse => Run(console, parse.GetValue(json)));
        return command;
    }

    static int Run(CliConsole console, bool json)
    {
        if (json)
        {
            console.WriteJson(new JsonObject
            {
                ["methods"] = new JsonArray(PeftMethods.All.Select(m => (JsonNode?)new JsonObject
                {
                    ["peft_type"] = m.PeftType,
                    ["description"] = m.Description,
                }).ToArray()),
            });
            return ExitCodes.Success;
        }
        var table = new Table { Border = TableBorder.Simple }.AddColumn("peft_type").AddColumn("description");
        foreach (var method in PeftMethods.All) table.AddRow(new Markup($"[bold]{Markup.Escape(method.PeftType)}[/]"), new Text(method.Description));
        console.Ansi.Write(table);
        return ExitCodes.Success;
    }
}
