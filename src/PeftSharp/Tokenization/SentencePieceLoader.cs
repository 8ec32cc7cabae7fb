using System.Text.RegularExpressions;

namespace PeftSharp.Tokenization;

/// <summary>
/// Reads a SentencePiece model file (tokenizer.model), set up as transformers converts it to a fast tokenizer
/// (LlamaConverter): control pieces become special added tokens, spaces become "▁" with a "▁" prefix, and the
/// decoder turns "▁" back into spaces and drops the first one.
/// </summary>
static class SentencePieceLoader
{
    public const string FileName = "tokenizer.model";

    /// <exception cref="TokenizerException">Not a SentencePiece model, or one of an unsupported type (word, char).</exception>
    public static TokenizerDefinition Load(byte[] modelBytes, string source, TokenizerConfig config)
    {
        var proto = SentencePieceProto.Parse(modelBytes, source);
        var kind = proto.Model switch
        {
            SentencePieceProto.ModelKind.Bpe => TokenizerKind.SentencePieceBpe,
            SentencePieceProto.ModelKind.Unigram => TokenizerKind.Unigram,
            var other => throw TokenizerErrors.At(source, "trainer_spec.model_type", $"SentencePiece {other.ToString().ToUpperInvariant()} models are not supported (BPE and UNIGRAM are)"),
        };
        var model = new SentencePieceModel(proto, source);

        var added = new List<AddedToken>();
        for (int id = 0; id < proto.Pieces.Count; id++)
        {
            var piece = proto.Pieces[id];
            if (piece.Type is SentencePieceProto.PieceType.Control or SentencePieceProto.PieceType.Unknown or SentencePieceProto.PieceType.UserDefined)
                added.Add(new AddedToken(piece.Text, id) { Special = piece.Type != SentencePieceProto.PieceType.UserDefined });
        }

        bool prefix = config.AddPrefixSpace ?? proto.AddDummyPrefix;
        TextNormalizer? normalizer;
        TextSplitter splitter;
        TokenDecoder decoder;
        if (kind == TokenizerKind.Unigram)
        {
            // As transformers' SpmConverter: the character map, extra spaces collapsed, Metaspace words.
            var steps = new List<TextNormalizer>();
            if (proto.PrecompiledCharsmap.Length > 0)
                steps.Add(SentencePieceCharsmap.Create(proto.PrecompiledCharsmap, source, "normalizer_spec.precompiled_charsmap"));
            if (proto.RemoveExtraWhitespaces) steps.Add(TextNormalizer.Replace(new Regex(" {2,}"), " "));
            normalizer = TextNormalizer.Sequence(steps);
            splitter = TextSplitter.Metaspace('▁', prefix ? TextSplitter.PrependScheme.Always : TextSplitter.PrependScheme.Never, split: true);
            decoder = TokenDecoder.Sequence([TokenDecoder.Metaspace('▁', prefix), TokenDecoder.ByteFallback(), TokenDecoder.Fuse()]);
        }
        else if (config.Legacy ?? true)
        {
            // Llama's legacy behaviour: every piece of text between special tokens gets its own "▁" prefix.
            var steps = new List<TextNormalizer>();
            if (prefix) steps.Add(TextNormalizer.Prepend("▁"));
            steps.Add(TextNormalizer.Replace(new Regex(" "), "▁"));
            normalizer = TextNormalizer.Sequence(steps);
            splitter = TextSplitter.None;
            decoder = LlamaDecoder(prefix);
        }
        else
        {
            // legacy=false: only the start of the input gets the prefix.
            normalizer = null;
            splitter = TextSplitter.Metaspace('▁', prefix ? TextSplitter.PrependScheme.First : TextSplitter.PrependScheme.Never, split: false);
            decoder = LlamaDecoder(prefix);
        }

        string? Piece(int id) => id >= 0 && id < proto.Pieces.Count ? proto.Pieces[id].Text : null;
        var defaults = new TokenizerConfig { BosToken = Piece(proto.BosId), EosToken = Piece(proto.EosId), UnkToken = Piece(proto.UnknownId), AddBosToken = true, AddEosToken = false };
        return new TokenizerDefinition(kind, model, normalizer, splitter, decoder, null, added, defaults, source);
    }

    static TokenDecoder LlamaDecoder(bool prefix) => prefix
        ? TokenDecoder.SentencePiece()
        : TokenDecoder.Sequence([TokenDecoder.Replace(new Regex("▁"), " "), TokenDecoder.ByteFallback(), TokenDecoder.Fuse()]);
}
