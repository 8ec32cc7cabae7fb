using Google.Protobuf;
using Microsoft.ML.Tokenizers;
using PeftSharp.IO.Gguf;

namespace PeftSharp.Tests.IO;

/// <summary>
/// The vocabulary inside stories260K.gguf equals its SentencePiece tokenizer.model, and the SentencePiece model written
/// from the GGUF tokenizes like the real one. Protobuf is parsed here with Google.Protobuf, independently of the writer.
/// </summary>
public class GgufTokenizerTests
{
    static string Gguf => Fixtures.Shared("models", "stories260K", "stories260K.gguf");
    static string TokenizerModel => Fixtures.Shared("models", "stories260K", "tokenizer.model");

    [Fact]
    public void RecordHoldsTheEmbeddedVocabularyAndSpecialTokens()
    {
        var tokenizer = GgufTokenizer.Read(Gguf);
        Assert.Equal("llama", tokenizer.Model);
        Assert.Equal(512, tokenizer.Tokens.Count);
        Assert.Equal((1, 2, 0, (int?)null), (tokenizer.BosTokenId, tokenizer.EosTokenId, tokenizer.UnknownTokenId, tokenizer.PaddingTokenId));
        Assert.Equal(new[] { "<unk>", "<s>", "</s>", "<0x00>" }, tokenizer.Tokens.Take(4));
        Assert.Equal(new[] { GgufTokenType.Unknown, GgufTokenType.Control, GgufTokenType.Control, GgufTokenType.Byte }, tokenizer.TokenTypes.Take(4));
        Assert.True(tokenizer.AddSpacePrefix);

        var reference = Parse(File.ReadAllBytes(TokenizerModel)).Pieces;
        Assert.Equal(reference, tokenizer.Tokens.Select((t, i) => (t, tokenizer.Scores[i], (int)tokenizer.TokenTypes[i])).ToList());
    }

    [Fact]
    public void SerialisedModelParsesToTheSamePiecesAndLlamaSettings()
    {
        var reference = Parse(File.ReadAllBytes(TokenizerModel));
        var written = Parse(GgufTokenizer.Read(Gguf).ToSentencePieceModel());
        Assert.Equal(reference.Pieces, written.Pieces);
        Assert.Equal(reference.Normalizer, written.Normalizer);
        foreach (int field in new[] { 3, 4, 35 }) // model_type BPE, vocab_size, byte_fallback
            Assert.Equal(reference.Trainer[field], written.Trainer[field]);
        Assert.Equal((0L, 1L, 2L, -1L), ((long)written.Trainer[40], (long)written.Trainer[41], (long)written.Trainer[42], (long)written.Trainer[43]));
    }

    [Theory]
    [InlineData("Once upon a time, there was a little girl named Lily.")]
    [InlineData("  Two  spaces, a tab\tand a newline\n, digits 12345 and ünïcödé → 🙂")]
    [InlineData("")]
    public void LlamaTokenizerFromTheGgufEncodesLikeTheRealTokenizerModel(string text)
    {
        using var real = File.OpenRead(TokenizerModel);
        using var fromGguf = new MemoryStream(GgufTokenizer.Read(Gguf).ToSentencePieceModel());
        var expected = LlamaTokenizer.Create(real);
        var actual = LlamaTokenizer.Create(fromGguf);
        var ids = actual.EncodeToIds(text);
        Assert.Equal(expected.EncodeToIds(text), ids);
        Assert.Equal(expected.Decode(ids), actual.Decode(ids));
        Assert.Equal((expected.BeginningOfSentenceId, expected.EndOfSentenceId, expected.UnknownId), (actual.BeginningOfSentenceId, actual.EndOfSentenceId, actual.UnknownId));
    }

    [Fact]
    public void NonSentencePieceTokenizersAreNotWrittenAsSentencePiece()
    {
        using var directory = Fixtures.TempDir();
        string path = new GgufBuilder().Meta("tokenizer.ggml.model", "gpt2").Meta("tokenizer.ggml.tokens", new[] { "a", "b" }).Write(directory.File("gpt2.gguf"));
        var tokenizer = GgufTokenizer.Read(path);
        Assert.Equal(new[] { 0f, 0f }, tokenizer.Scores);
        Assert.Throws<TokenizerException>(() => tokenizer.ToSentencePieceModel());
    }

    [Fact]
    public void InconsistentTokenizerMetadataIsReported()
    {
        using var directory = Fixtures.TempDir();
        string path = new GgufBuilder().Meta("tokenizer.ggml.model", "llama").Meta("tokenizer.ggml.tokens", new[] { "a", "b" })
            .Meta("tokenizer.ggml.scores", new[] { 1f }).Write(directory.File("scores.gguf"));
        Assert.Contains("'tokenizer.ggml.scores' has 1 entries but tokenizer.ggml.tokens has 2",
            Assert.Throws<CheckpointFormatException>(() => GgufTokenizer.Read(path)).Message);
        path = new GgufBuilder().Meta("tokenizer.ggml.model", "llama").Meta("tokenizer.ggml.tokens", new[] { "a", "b" })
            .Meta("tokenizer.ggml.bos_token_id", 7u).Write(directory.File("bos.gguf"));
        Assert.Contains("'tokenizer.ggml.bos_token_id' is 7, outside the vocabulary of 2 tokens",
            Assert.Throws<CheckpointFormatException>(() => GgufTokenizer.Read(path)).Message);
    }

    /// <summary>ModelProto: pieces (piece, score, type defaulting to NORMAL = 1), and the scalar fields of trainer_spec and normalizer_spec.</summary>
    static (List<(string Piece, float Score, int Type)> Pieces, Dictionary<int, object> Trainer, Dictionary<int, object> Normalizer) Parse(byte[] bytes)
    {
        var pieces = new List<(string, float, int)>();
        Dictionary<int, object> trainer = new(), normalizer = new();
        var input = new CodedInputStream(bytes);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var message = input.ReadBytes();
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1:
                    var fields = Fields(message);
                    pieces.Add(((string)fields[1], (float)fields[2], fields.TryGetValue(3, out var type) ? (int)(long)type : 1));
                    break;
                case 2: trainer = Fields(message); break;
                case 3: normalizer = Fields(message); break;
            }
        }
        return (pieces, trainer, normalizer);
    }

    static Dictionary<int, object> Fields(ByteString message)
    {
        var fields = new Dictionary<int, object>();
        var input = message.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            fields[WireFormat.GetTagFieldNumber(tag)] = WireFormat.GetTagWireType(tag) switch
            {
                WireFormat.WireType.Varint => input.ReadInt64(),
                WireFormat.WireType.Fixed32 => input.ReadFloat(),
                WireFormat.WireType.LengthDelimited => input.ReadBytes().ToStringUtf8(),
                var other => throw new InvalidDataException($"unexpected wire type {other}"),
            };
        }
        return fields;
    }
}
