using System.Buffers.Binary;
using System.Text;

namespace PeftSharp.Tokenization;

/// <summary>
/// The fields of a SentencePiece model file (sentencepiece_model.proto's ModelProto) that tokenization needs:
/// the pieces with their scores and types, the model type, the special ids, byte fallback and the normalizer flags.
/// </summary>
/// <remarks>
/// Hand-written protobuf reading: Microsoft.ML.Tokenizers parses the same bytes but keeps the parsed message
/// internal, and the piece types are needed to know which pieces are control tokens (matched in text and skipped
/// when decoding) and which are user-defined. Reading first also turns a malformed file into a
/// <see cref="TokenizerException"/> that names the field instead of a protobuf exception.
/// </remarks>
sealed class SentencePieceProto
{
    /// <summary>sentencepiece_model.proto's SentencePiece.Type.</summary>
    public enum PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 }

    /// <summary>sentencepiece_model.proto's TrainerSpec.ModelType.</summary>
    public enum ModelKind { Unigram = 1, Bpe = 2, Word = 3, Char = 4 }

    public readonly record struct Piece(string Text, float Score, PieceType Type);

    public List<Piece> Pieces { get; } = new();
    public ModelKind Model { get; set; } = ModelKind.Unigram; // the proto's default
    public bool ByteFallback { get; set; }
    public int UnknownId { get; set; }
    public int BosId { get; set; } = 1;
    public int EosId { get; set; } = 2;
    public int PadId { get; set; } = -1;
    public bool AddDummyPrefix { get; set; } = true;
    public bool RemoveExtraWhitespaces { get; set; } = true;
    public bool EscapeWhitespaces { get; set; } = true;
    public byte[] PrecompiledCharsmap { get; set; } = [];

    // Field numbers of sentencepiece_model.proto.
    const int ModelPieces = 1, ModelTrainerSpec = 2, ModelNormalizerSpec = 3;
    const int PieceText = 1, PieceScore = 2, PieceTypeField = 3;
    const int TrainerModelType = 3, TrainerByteFallback = 35, TrainerUnkId = 40, TrainerBosId = 41, TrainerEosId = 42, TrainerPadId = 43;
    const int NormalizerCharsmap = 2, NormalizerDummyPrefix = 3, NormalizerRemoveExtraWhitespaces = 4, NormalizerEscapeWhitespaces = 5;

    /// <exception cref="TokenizerException">Not a SentencePiece model: names the field that failed.</exception>
    public static SentencePieceProto Parse(ReadOnlySpan<byte> data, string source)
    {
        var proto = new SentencePieceProto();
        var reader = new Reader(data, source, "ModelProto");
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case ModelPieces: proto.Pieces.Add(ReadPiece(reader.Bytes(wire), source, $"pieces[{proto.Pieces.Count}]")); break;
                case ModelTrainerSpec: proto.ReadTrainerSpec(reader.Bytes(wire), source); break;
                case ModelNormalizerSpec: proto.ReadNormalizerSpec(reader.Bytes(wire), source); break;
                default: reader.Skip(wire); break;
            }
        }
        if (proto.Pieces.Count == 0) throw TokenizerErrors.At(source, "pieces", "a SentencePiece model needs at least one piece (is this a .model file?)");
        foreach (var (name, id) in new[] { ("trainer_spec.unk_id", proto.UnknownId), ("trainer_spec.bos_id", proto.BosId), ("trainer_spec.eos_id", proto.EosId), ("trainer_spec.pad_id", proto.PadId) })
            if (id >= proto.Pieces.Count) throw TokenizerErrors.At(source, name, $"id {id} is outside the {proto.Pieces.Count} pieces");
        return proto;
    }

    static Piece ReadPiece(ReadOnlySpan<byte> data, string source, string path)
    {
        string? text = null;
        float score = 0;
        var type = PieceType.Normal;
        var reader = new Reader(data, source, path);
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case PieceText: text = reader.String(wire); break;
                case PieceScore: score = reader.Float(wire); break;
                case PieceTypeField:
                    long value = reader.Varint(wire);
                    type = value is >= 1 and <= 6 ? (PieceType)value : throw TokenizerErrors.At(source, $"{path}.type", $"unknown piece type {value}");
                    break;
                default: reader.Skip(wire); break;
            }
        }
        return new Piece(text ?? throw TokenizerErrors.At(source, $"{path}.piece", "is missing"), score, type);
    }

    void ReadTrainerSpec(ReadOnlySpan<byte> data, string source)
    {
        var reader = new Reader(data, source, "trainer_spec");
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case TrainerModelType:
                    long kind = reader.Varint(wire);
                    Model = kind is >= 1 and <= 4 ? (ModelKind)kind : throw TokenizerErrors.At(source, "trainer_spec.model_type", $"unknown model type {kind}");
                    break;
                case TrainerByteFallback: ByteFallback = reader.Varint(wire) != 0; break;
                case TrainerUnkId: UnknownId = (int)reader.Varint(wire); break;
                case TrainerBosId: BosId = (int)reader.Varint(wire); break;
                case TrainerEosId: EosId = (int)reader.Varint(wire); break;
                case TrainerPadId: PadId = (int)reader.Varint(wire); break;
                default: reader.Skip(wire); break;
            }
        }
    }

    void ReadNormalizerSpec(ReadOnlySpan<byte> data, string source)
    {
        var reader = new Reader(data, source, "normalizer_spec");
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case NormalizerCharsmap: PrecompiledCharsmap = reader.Bytes(wire).ToArray(); break;
                case NormalizerDummyPrefix: AddDummyPrefix = reader.Varint(wire) != 0; break;
                case NormalizerRemoveExtraWhitespaces: RemoveExtraWhitespaces = reader.Varint(wire) != 0; break;
                case NormalizerEscapeWhitespaces: EscapeWhitespaces = reader.Varint(wire) != 0; break;
                default: reader.Skip(wire); break;
            }
        }
    }

    /// <summary>Serializes the fields this class holds (enough for Microsoft.ML.Tokenizers to build a tokenizer).</summary>
    public byte[] ToBytes()
    {
        var model = new Writer();
        foreach (var piece in Pieces)
        {
            var p = new Writer();
            p.String(PieceText, piece.Text);
            p.Float(PieceScore, piece.Score);
            p.Varint(PieceTypeField, (long)piece.Type);
            model.Message(ModelPieces, p);
        }
        var trainer = new Writer();
        trainer.Varint(TrainerModelType, (long)Model);
        trainer.Varint(TrainerByteFallback, ByteFallback ? 1 : 0);
        trainer.Varint(TrainerUnkId, UnknownId);
        trainer.Varint(TrainerBosId, BosId);
        trainer.Varint(TrainerEosId, EosId);
        trainer.Varint(TrainerPadId, PadId);
        model.Message(ModelTrainerSpec, trainer);
        var normalizer = new Writer();
        normalizer.Bytes(NormalizerCharsmap, PrecompiledCharsmap);
        normalizer.Varint(NormalizerDummyPrefix, AddDummyPrefix ? 1 : 0);
        normalizer.Varint(NormalizerRemoveExtraWhitespaces, RemoveExtraWhitespaces ? 1 : 0);
        normalizer.Varint(NormalizerEscapeWhitespaces, EscapeWhitespaces ? 1 : 0);
        model.Message(ModelNormalizerSpec, normalizer);
        return model.ToArray();
    }

    /// <summary>Protobuf wire-format reader over one message.</summary>
    ref struct Reader(ReadOnlySpan<byte> data, string source, string path)
    {
        readonly ReadOnlySpan<byte> _data = data;
        int _position;

        TokenizerException Truncated() => TokenizerErrors.At(source, path, "truncated or malformed protobuf data (is this a SentencePiece .model file?)");

        public bool Next(out int field, out int wire)
        {
            field = wire = 0;
            if (_position >= _data.Length) return false;
            ulong key = RawVarint();
            field = (int)(key >> 3);
            wire = (int)(key & 7);
            if (field == 0) throw Truncated();
            return true;
        }

        ulong RawVarint()
        {
            ulong result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (_position >= _data.Length) throw Truncated();
                byte b = _data[_position++];
                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return result;
            }
            throw Truncated();
        }

        void Expect(int wire, int expected)
        {
            if (wire != expected) throw TokenizerErrors.At(source, path, $"field has wire type {wire}, expected {expected}");
        }

        public long Varint(int wire)
        {
            Expect(wire, 0);
            return (long)RawVarint();
        }

        public float Float(int wire)
        {
            Expect(wire, 5);
            if (_position + 4 > _data.Length) throw Truncated();
            float value = BinaryPrimitives.ReadSingleLittleEndian(_data.Slice(_position, 4));
            _position += 4;
            return value;
        }

        public ReadOnlySpan<byte> Bytes(int wire)
        {
            Expect(wire, 2);
            ulong length = RawVarint();
            if (length > (ulong)(_data.Length - _position)) throw Truncated();
            var slice = _data.Slice(_position, (int)length);
            _position += (int)length;
            return slice;
        }

        public string String(int wire)
        {
            try
            {
                return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Bytes(wire));
            }
            catch (DecoderFallbackException e)
            {
                throw TokenizerErrors.At(source, path, "a piece is not valid UTF-8", e);
            }
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: RawVarint(); break;
                case 1: if ((_position += 8) > _data.Length) throw Truncated(); break;
                case 2: Bytes(2); break;
                case 5: if ((_position += 4) > _data.Length) throw Truncated(); break;
                default: throw TokenizerErrors.At(source, path, $"unsupported protobuf wire type {wire}");
            }
        }
    }

    /// <summary>Protobuf wire-format writer.</summary>
    sealed class Writer
    {
        readonly MemoryStream _stream = new();

        void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                _stream.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _stream.WriteByte((byte)value);
        }

        void Key(int field, int wire) => Raw((ulong)((field << 3) | wire));

        public void Varint(int field, long value)
        {
            Key(field, 0);
            Raw((ulong)value);
        }

        public void Float(int field, float value)
        {
            Key(field, 5);
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
            _stream.Write(bytes);
        }

        public void Bytes(int field, ReadOnlySpan<byte> value)
        {
            Key(field, 2);
            Raw((ulong)value.Length);
            _stream.Write(value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, Writer message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => _stream.ToArray();
    }
}
