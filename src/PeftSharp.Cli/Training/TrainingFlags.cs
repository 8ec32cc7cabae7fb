using System.CommandLine;
using PeftSharp.Training;

namespace PeftSharp.Cli.Training;

/// <summary>Options and parsing shared by the training commands (pretrain, train, compare).</summary>
static class TrainingFlags
{
    public static Option<string?> Precision(string description) => Accepting(new Option<string?>("--precision")
    {
        Description = description,
        HelpName = "bf16|fp32",
    }, "bf16", "fp32");

    /// <summary>"bf16" or "fp32" as a <see cref="TrainingPrecision"/>.</summary>
    public static TrainingPrecision ParsePrecision(string value) => value switch
    {
        "bf16" => TrainingPrecision.BFloat16,
        "fp32" => TrainingPrecision.Float32,
        _ => throw new CliUsageException($"--precision: '{value}' is not bf16 or fp32"),
    };

    /// <summary>"bf16" or "fp32".</summary>
    public static string Name(TrainingPrecision precision) => precision == TrainingPrecision.BFloat16 ? "bf16" : "fp32";

    public static Option<int?> Threads() => new("--threads")
    {
        Description = "libtorch threads (default: as many as libtorch chooses, or the run's own default); fewer than the cores helps on a loaded machine",
        HelpName = "N",
    };

    public static Option<bool> Force() => new("--force") { Description = "Replace --out even if it is not empty" };

    /// <summary>Comma-separated names ("a,b,c", spaces ignored, empty parts dropped).</summary>
    public static List<string> SplitList(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>The command as typed ("peft pretrain --kind encoder ..."), quoting arguments with spaces, for records.</summary>
    public static string CommandLine(ParseResult parse) =>
        "peft " + string.Join(' ', parse.Tokens.Select(t => t.Value.Any(char.IsWhiteSpace) || t.Value.Length == 0 ? $"'{t.Value}'" : t.Value));

    static Option<T> Accepting<T>(Option<T> option, params string[] values)
    {
        option.AcceptOnlyFromAmong(values);
        return option;
    }
}
