namespace PeftSharp.Tokenization;

/// <summary>Which end loses tokens when a sequence is truncated (tokenizer_config.json "truncation_side").</summary>
public enum TruncationSide
{
    Right,
    Left,
}
