using System.Buffers.Binary;
using System.Text;

namespace PeftSharp.IO.Gguf;

/// <summary>
/// Writes the few fields of SentencePiece's ModelProto (sentencepiece_model.proto) a BPE tokenizer needs:
/// pieces (1: piece, 2: score, 3: type, omitted when NORMAL), trainer_spec (3: model_type BPE, 4: vocab_size,
/// 35: byte_fallback, 40-43: unk/bos/eos/pad ids) and normalizer_spec (1: name "identity", 2: empty
/// precompiled_charsmap, 3: add_dummy_prefix when false). Everything else keeps proto2's defaults, as in llama2.c's
/// tokenizer.model.
/// </summary>
internal static class SentencePieceModelWriter
{
    const int BpeModelType = 2;

    public static byte[] Write(GgufTokenizer tokenizer)
    {
        var model = new ProtoWriter();
        for (int id = 0; id < tokenizer.Tokens.Count; id++)
        {
            var piece = new ProtoWriter();
            piece.String(1, tokenizer.Tokens[id]);
            piece.Float(2, tokenizer.Scores[id]);
            var type = tokenizer.TokenTypes[id];
            if (type is not (GgufTokenType.Normal or GgufTokenType.Undefined)) piece.Int32(3, (int)type);
            model.Message(1, piece);
        }

        var trainer = new ProtoWriter();
        trainer.Int32(3, BpeModelType);
        trainer.Int32(4, tokenizer.Tokens.Count);
        trainer.Bool(35, tokenizer.TokenTypes.Contains(GgufTokenType.Byte));
        int unknown = tokenizer.UnknownTokenId ?? Math.Max(0, tokenizer.TokenTypes.ToList().IndexOf(GgufTokenType.Unknown));
        trainer.Int32(40, unknown);
        trainer.Int32(41, tokenizer.BosTokenId ?? -1);
        trainer.Int32(42, tokenizer.EosTokenId ?? -1);
        trainer.Int32(43, tokenizer.PaddingTokenId ?? -1);
        model.Message(2, trainer);

        var normalizer = new ProtoWriter();
        normalizer.String(1, "identity");
        normalizer.Bytes(2, ReadOnlySpan<byte>.Empty);
        if (!tokenizer.AddSpacePrefix) normalizer.Bool(3, false);
        model.Message(3, normalizer);
        return model.ToArray();
    }

    /// <summary>Protocol-buffer wire format: varint (0), 32-bit (5) and length-delimited (2) fields.</summary>
    sealed class ProtoWriter
    {
        readonly MemoryStream _buffer = new();

        public void Int32(int field, int value)
        {
            Tag(field, 0);
            Varint((ulong)(long)value); // negative int32s are sign-extended to ten bytes, as protobuf does
        }

        public void Bool(int field, bool value)
        {
            Tag(field, 0);
            Varint(value ? 1UL : 0UL);
        }

        public void Float(int field, float value)
        {
            Tag(field, 5);
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
            _buffer.Write(bytes);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, ProtoWriter message) => Bytes(field, message._buffer.GetBuffer().AsSpan(0, (int)message._buffer.Length));

        public void Bytes(int field, ReadOnlySpan<byte> value)
        {
            Tag(field, 2);
            Varint((ulong)value.Length);
            _buffer.Write(value);
        }

        public byte[] ToArray() => _buffer.ToArray();

        void Tag(int field, int wireType) => Varint((ulong)(field << 3 | wireType));

        void Varint(ulong value)
        {
            while (value >= 0x80)
            {
                _buffer.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _buffer.WriteByte((byte)value);
        }
    }
}
