using Microsoft.ML.Tokenizers;

namespace PeftSharp.Tokenization;

/// <summary>
/// A SentencePiece model (.model file, or one built from a tokenizer.json Unigram model): BPE by piece scores with
/// byte fallback (Llama-2, Mistral) or Unigram. Encoding is Microsoft.ML.Tokenizers'
/// <see cref="SentencePieceTokenizer"/>, fed the already normalized word ("▁Hello▁world").
/// </summary>
sealed class SentencePieceModel : TokenModel
{
    readonly SentencePieceTokenizer _tokenizer;
    readonly Dictionary<string, int> _vocabulary;

    public SentencePieceModel(SentencePieceProto proto, string source)
    {
        Proto = proto;
        _vocabulary = new Dictionary<string, int>(proto.Pieces.Count, StringComparer.Ordinal);
        for (int id = 0; id < proto.Pieces.Count; id++)
            if (!_vocabulary.TryAdd(proto.Pieces[id].Text, id))
                throw TokenizerErrors.At(source, $"pieces[{id}]", $"piece '{proto.Pieces[id].Text}' also appears as piece {_vocabulary[proto.Pieces[id].Text]}");
        UnknownId = proto.UnknownId >= 0 ? proto.UnknownId : null;
        if (proto.ByteFallback && !_vocabulary.ContainsKey("<0x00>"))
            throw TokenizerErrors.At(source, "trainer_spec.byte_fallback", "byte fallback is on but the pieces <0x00>..<0xFF> are missing");
        // Microsoft.ML.Tokenizers is given the fields parsed here, re-serialized; its Unigram model indexes the pieces
        // with the BOS and EOS ids, which SentencePiece allows to be -1 (T5), so those point at the unknown piece.
        int fallbackId = Math.Max(0, proto.UnknownId);
        var forMl = new SentencePieceProto
        {
            Model = proto.Model, ByteFallback = proto.ByteFallback, UnknownId = fallbackId,
            BosId = proto.BosId >= 0 ? proto.BosId : fallbackId, EosId = proto.EosId >= 0 ? proto.EosId : fallbackId, PadId = proto.PadId,
            AddDummyPrefix = proto.AddDummyPrefix, RemoveExtraWhitespaces = proto.RemoveExtraWhitespaces, EscapeWhitespaces = proto.EscapeWhitespaces,
        };
        forMl.Pieces.AddRange(proto.Pieces);
        using var stream = new MemoryStream(forMl.ToBytes(), writable: false);
        _tokenizer = SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false);
    }

    /// <summary>The parsed model file.</summary>
    public SentencePieceProto Proto { get; }

    public override IReadOnlyDictionary<string, int> Vocabulary => _vocabulary;

    public override int? UnknownId { get; }

    /// <summary>Encodes an already normalized word: spaces are "▁" and any dummy prefix is in place.</summary>
    public override void Encode(string word, List<int> ids) =>
        ids.AddRange(_tokenizer.EncodeToIds(word, addBeginningOfSentence: false, addEndOfSentence: false, considerPreTokenization: false, considerNormalization: false));
}
