namespace PeftSharp.IO.Gguf;

/// <summary>
/// tokenizer.ggml.token_type values (llama.cpp's llama_token_type); 1 to 6 are SentencePiece's piece types too.
/// </summary>
public enum GgufTokenType
{
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}
