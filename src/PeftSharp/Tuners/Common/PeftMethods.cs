using PeftSharp.Models;
using PeftSharp.Tuners.Adapters;
using PeftSharp.Tuners.IA3;
using PeftSharp.Tuners.Lora;
using PeftSharp.Tuners.Prompts;
using PeftSharp.Tuners.Selection;

namespace PeftSharp.Tuners.Common;

/// <summary>Every fine-tuning method PeftSharp knows, by peft_type.</summary>
public static class PeftMethods
{
    static readonly List<PeftMethod> Registered = new()
    {
        new LoraMethod(), new IA3Method(), new LnTuningMethod(), new BitFitMethod(), new PartialFineTuningMethod(), new FullFineTuningMethod(),
        new BottleneckMethod(), new FusionMethod(),
        new PromptTuningMethod(), new PrefixTuningMethod(), new PTuningMethod(),
    };

    public static IReadOnlyList<PeftMethod> All => Registered;

    /// <summary>The method with this peft_type.</summary>
    /// <exception cref="ConfigException">Unknown peft_type; the message lists the known ones.</exception>
    public static PeftMethod For(string peftType, string source = "adapter config") =>
        Registered.FirstOrDefault(m => m.PeftType == peftType)
        ?? throw new ConfigException(source, "peft_type", $"unknown peft_type '{peftType}' (known: {string.Join(", ", Registered.Select(m => m.PeftType))})");

    /// <summary>Reads an adapter_config.json of any known method.</summary>
    public static PeftConfig ReadConfig(string path)
    {
        var reader = ConfigReader.FromFile(path);
        return For(reader.String("peft_type"), path).ReadConfig(reader);
    }

    /// <summary>Adds a method (e.g. one of the user's own); its peft_type must be new.</summary>
    public static void Register(PeftMethod method)
    {
        if (Registered.Any(m => m.PeftType == method.PeftType)) throw new ArgumentException($"peft_type '{method.PeftType}' is already registered", nameof(method));
        Registered.Add(method);
    }
}
