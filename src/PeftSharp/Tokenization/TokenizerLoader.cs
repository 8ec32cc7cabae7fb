using PeftSharp.IO.Gguf;

namespace PeftSharp.Tokenization;

/// <summary>Finds the tokenizer that belongs to a model, whether the model is a Hugging Face directory or a GGUF file.</summary>
public static class TokenizerLoader
{
    /// <summary>
    /// The tokenizer of the model at <paramref name="modelPath"/>: for a directory, what
    /// <see cref="PretrainedTokenizer.FromDirectory"/> finds there (tokenizer.json, vocab files, tokenizer.model); for a
    /// .gguf file, the vocabulary it embeds, rebuilt as a SentencePiece model with the file's special tokens and its
    /// tokenizer.ggml.add_bos_token flag (default: add BOS, as llama.cpp does for SentencePiece vocabularies).
    /// </summary>
    /// <exception cref="TokenizerException">No tokenizer, or one that is not SentencePiece in a GGUF file.</exception>
    /// <exception cref="CheckpointFormatException">The GGUF file is malformed or has no tokenizer metadata.</exception>
    public static PretrainedTokenizer ForModel(string modelPath)
    {
        if (Directory.Exists(modelPath)) return PretrainedTokenizer.FromDirectory(modelPath);
        if (!File.Exists(modelPath)) throw new TokenizerException($"{modelPath}: no such model directory or file");
        if (!modelPath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            throw new TokenizerException($"{modelPath}: not a model directory or a .gguf file");
        return FromGguf(modelPath);
    }

    /// <summary>The tokenizer a GGUF file embeds (tokenizer.ggml.*), as a <see cref="PretrainedTokenizer"/>.</summary>
    /// <exception cref="TokenizerException">The vocabulary is not SentencePiece ("llama").</exception>
    public static PretrainedTokenizer FromGguf(string ggufPath)
    {
        using var file = GgufFile.Open(ggufPath);
        var vocabulary = GgufTokenizer.Read(file);
        const string addBosKey = "tokenizer.ggml.add_bos_token", addEosKey = "tokenizer.ggml.add_eos_token";
        string? Piece(int? id) => id is int i ? vocabulary.Tokens[i] : null;
        var config = new TokenizerConfig
        {
            BosToken = Piece(vocabulary.BosTokenId),
            EosToken = Piece(vocabulary.EosTokenId),
            UnkToken = Piece(vocabulary.UnknownTokenId),
            PadToken = Piece(vocabulary.PaddingTokenId),
            AddBosToken = !file.Metadata.Contains(addBosKey) || file.Metadata.Bool(addBosKey),
            AddEosToken = file.Metadata.Contains(addEosKey) && file.Metadata.Bool(addEosKey),
        };
        return PretrainedTokenizer.FromSentencePiece(vocabulary.ToSentencePieceModel(), config, ggufPath);
    }
}
