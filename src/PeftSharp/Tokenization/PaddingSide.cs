namespace PeftSharp.Tokenization;

/// <summary>Where padding goes (tokenizer_config.json "padding_side"). Decoder-only models generate after left padding.</summary>
public enum PaddingSide
{
    Right,
    Left,
}
