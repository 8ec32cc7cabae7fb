namespace PeftSharp;

/// <summary>Base of every error PeftSharp reports about its inputs (files, configs, arguments).</summary>
public class PeftSharpException : Exception
{
    public PeftSharpException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A checkpoint or tensor file is malformed: names the file, the tensor or field, and what was expected.</summary>
public sealed class CheckpointFormatException : PeftSharpException
{
    public CheckpointFormatException(string file, string message, string? tensor = null, Exception? inner = null)
        : base($"{file}: {(tensor is null ? "" : $"tensor '{tensor}': ")}{message}", inner)
    {
        File = file;
        Tensor = tensor;
    }

    /// <summary>The file that is malformed.</summary>
    public string File { get; }

    /// <summary>The tensor concerned, when the problem is with one tensor.</summary>
    public string? Tensor { get; }
}

/// <summary>A configuration (config.json, adapter_config.json, a method's options) is invalid.</summary>
public sealed class ConfigException : PeftSharpException
{
    public ConfigException(string source, string? field, string message, Exception? inner = null)
        : base($"{source}: {(field is null ? "" : $"field '{field}': ")}{message}", inner)
    {
        Source = source;
        Field = field;
    }

    /// <summary>The file or object the configuration came from.</summary>
    public new string Source { get; }

    /// <summary>The field at fault, when one is.</summary>
    public string? Field { get; }
}

/// <summary>Weights do not fit a model: missing or unexpected tensors, or shapes that disagree.</summary>
public sealed class WeightMismatchException : PeftSharpException
{
    public WeightMismatchException(string message) : base(message) { }
}

/// <summary>A tokenizer definition is missing or malformed.</summary>
public sealed class TokenizerException : PeftSharpException
{
    public TokenizerException(string message, Exception? inner = null) : base(message, inner) { }
}
