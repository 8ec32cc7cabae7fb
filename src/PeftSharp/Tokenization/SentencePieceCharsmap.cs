using Microsoft.ML.Tokenizers;

namespace PeftSharp.Tokenization;

/// <summary>
/// Hugging Face's "Precompiled" normalizer: SentencePiece's precompiled character map (NFKC-like rules stored as a
/// double-array trie). The map is applied by Microsoft.ML.Tokenizers' SentencePieceNormalizer, which only accepts
/// it inside a model file, so the map is wrapped in a minimal one.
/// </summary>
static class SentencePieceCharsmap
{
    /// <summary>The normalizer of a tokenizer.json {"type": "Precompiled", "precompiled_charsmap": base64}.</summary>
    public static TextNormalizer FromJson(JsonField node)
    {
        var field = node.Require("precompiled_charsmap");
        byte[] charsmap;
        try
        {
            charsmap = Convert.FromBase64String(field.AsString());
        }
        catch (FormatException e)
        {
            throw field.Error("is not base64", e);
        }
        return Create(charsmap, field.File, field.Path);
    }

    /// <summary>The normalizer of a raw character map (a .model file's normalizer_spec.precompiled_charsmap).</summary>
    public static TextNormalizer Create(byte[] charsmap, string source, string field)
    {
        if (charsmap.Length == 0) return TextNormalizer.Sequence([]);

        var proto = new SentencePieceProto
        {
            Model = SentencePieceProto.ModelKind.Unigram,
            PrecompiledCharsmap = charsmap,
            AddDummyPrefix = false,
            RemoveExtraWhitespaces = false,
            EscapeWhitespaces = false,
            BosId = 0,
            EosId = 0,
        };
        proto.Pieces.Add(new SentencePieceProto.Piece("<unk>", 0, SentencePieceProto.PieceType.Unknown));
        try
        {
            using var stream = new MemoryStream(proto.ToBytes());
            var normalizer = SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false).Normalizer!;
            return new Charsmap(normalizer);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw TokenizerErrors.At(source, field, $"is not a valid SentencePiece character map ({e.Message})", e);
        }
    }

    sealed class Charsmap(Microsoft.ML.Tokenizers.Normalizer normalizer) : TextNormalizer
    {
        public override string Normalize(string text) => text.Length == 0 ? text : normalizer.Normalize(text);
    }
}
