namespace PeftSharp.IO.Gguf;

/// <summary>
/// The tokenizer a GGUF file embeds (tokenizer.ggml.*): the vocabulary with scores and token types, and the special
/// token ids. For tokenizer model "llama" (SentencePiece BPE with byte fallback) it can be written out as a
/// SentencePiece model file that Microsoft.ML.Tokenizers' LlamaTokenizer loads.
/// </summary>
/// <param name="Model">tokenizer.ggml.model: "llama" (SentencePiece), "gpt2" (byte-level BPE), ...</param>
/// <param name="Tokens">Piece strings by id.</param>
/// <param name="Scores">Piece scores by id (zeros when the file has none).</param>
/// <param name="TokenTypes">Piece types by id (Normal when the file has none).</param>
/// <param name="BosTokenId">Beginning-of-sequence id, or null.</param>
/// <param name="EosTokenId">End-of-sequence id, or null.</param>
/// <param name="UnknownTokenId">Unknown-piece id, or null.</param>
/// <param name="PaddingTokenId">Padding id, or null (llama.cpp writes -1 or 2^32-1 for none).</param>
/// <param name="AddSpacePrefix">tokenizer.ggml.add_space_prefix: prepend "▁" to the text (default true).</param>
public sealed record GgufTokenizer(
    string Model,
    IReadOnlyList<string> Tokens,
    IReadOnlyList<float> Scores,
    IReadOnlyList<GgufTokenType> TokenTypes,
    int? BosTokenId,
    int? EosTokenId,
    int? UnknownTokenId,
    int? PaddingTokenId,
    bool AddSpacePrefix)
{
    /// <summary>Reads the tokenizer of a GGUF file.</summary>
    /// <exception cref="CheckpointFormatException">The file has no tokenizer, or its fields disagree.</exception>
    public static GgufTokenizer Read(string path)
    {
        using var file = GgufFile.Open(path);
        return Read(file);
    }

    /// <summary>Reads the tokenizer of an open GGUF file.</summary>
    /// <exception cref="CheckpointFormatException">The file has no tokenizer, or its fields disagree.</exception>
    public static GgufTokenizer Read(GgufFile file)
    {
        var m = file.Metadata;
        string model = m.String("tokenizer.ggml.model");
        string[] tokens = m.ArrayOf<string>("tokenizer.ggml.tokens");
        float[] scores = m.Contains("tokenizer.ggml.scores") ? m.ArrayOf<float>("tokenizer.ggml.scores") : new float[tokens.Length];
        int[] types = m.Contains("tokenizer.ggml.token_type") ? m.ArrayOf<int>("tokenizer.ggml.token_type") : Enumerable.Repeat((int)GgufTokenType.Normal, tokens.Length).ToArray();
        foreach (var (key, length) in new[] { ("tokenizer.ggml.scores", scores.Length), ("tokenizer.ggml.token_type", types.Length) })
            if (length != tokens.Length)
                throw new CheckpointFormatException(file.Path, $"metadata '{key}' has {length} entries but tokenizer.ggml.tokens has {tokens.Length}");
        int unknownType = Array.FindIndex(types, t => !Enum.IsDefined((GgufTokenType)t));
        if (unknownType >= 0)
            throw new CheckpointFormatException(file.Path, $"metadata 'tokenizer.ggml.token_type' gives token {unknownType} the unknown type {types[unknownType]}");
        return new GgufTokenizer(model, tokens, scores, types.Select(t => (GgufTokenType)t).ToArray(),
            TokenId(m, "tokenizer.ggml.bos_token_id", tokens.Length),
            TokenId(m, "tokenizer.ggml.eos_token_id", tokens.Length),
            TokenId(m, "tokenizer.ggml.unknown_token_id", tokens.Length),
            TokenId(m, "tokenizer.ggml.padding_token_id", tokens.Length),
            !m.Contains("tokenizer.ggml.add_space_prefix") || m.Bool("tokenizer.ggml.add_space_prefix"));
    }

    /// <summary>
    /// This vocabulary as a SentencePiece ModelProto (the bytes of a tokenizer.model file), set up as llama2.c's
    /// tokenizer is: BPE, byte fallback when the vocabulary has byte pieces, identity normalisation.
    /// </summary>
    /// <exception cref="TokenizerException">The tokenizer model is not "llama" (SentencePiece).</exception>
    public byte[] ToSentencePieceModel() => Model == "llama"
        ? SentencePieceModelWriter.Write(this)
        : throw new TokenizerException($"GGUF tokenizer model '{Model}' is not SentencePiece ('llama'); it cannot be written as a SentencePiece model");

    /// <summary>A special token id from metadata: null when absent or "none" (negative, 2^32-1); otherwise it must be a valid id.</summary>
    internal static int? TokenId(GgufMetadata metadata, string key, int vocabularySize)
    {
        if (!metadata.Contains(key)) return null;
        long id = metadata.Integer(key);
        if (id < 0 || id == uint.MaxValue) return null;
        return id < vocabularySize ? (int)id
            : throw new CheckpointFormatException(metadata.Path, $"metadata '{key}' is {id}, outside the vocabulary of {vocabularySize} tokens");
    }
}
