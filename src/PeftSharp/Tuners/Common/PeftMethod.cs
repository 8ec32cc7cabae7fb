using PeftSharp.Models;

namespace PeftSharp.Tuners.Common;

/// <summary>
/// One fine-tuning method: reads its adapter_config.json and attaches an adapter to a model. Everything else
/// (activation, merging, files, routing) goes through the <see cref="IAdapterModule"/>s it attaches.
/// </summary>
public abstract class PeftMethod
{
    /// <summary>peft_type in adapter_config.json.</summary>
    public abstract string PeftType { get; }

    /// <summary>A line describing the method and its paper, for listings.</summary>
    public abstract string Description { get; }

    /// <summary>Reads adapter_config.json (unknown fields go to <see cref="PeftConfig.IgnoredFields"/>).</summary>
    public abstract PeftConfig ReadConfig(ConfigReader reader);

    /// <summary>
    /// Attaches adapter <paramref name="name"/> to <paramref name="peft"/>'s model and returns the config as applied
    /// (e.g. with the family's default targets filled in).
    /// </summary>
    public abstract PeftConfig Attach(PeftModel peft, string name, PeftConfig config);
}
