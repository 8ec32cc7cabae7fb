using static TorchSharp.torch;

namespace PeftSharp.IO.Gguf;

/// <summary>
/// Storage layout of each GGUF tensor type PeftSharp reads, and its decoding into a TorchSharp tensor. Plain types
/// keep their element type; block-quantised types are dequantised to float32:
/// <list type="bullet">
/// <item>Q8_0: blocks of 32 values, 34 bytes: an fp16 scale d, then 32 int8 q; x[i] = d * q[i].</item>
/// <item>Q4_0: blocks of 32 values, 18 bytes: an fp16 scale d, then 16 bytes; byte j holds q[j] in its low nibble and
/// q[j + 16] in its high nibble; x[i] = d * (q[i] - 8).</item>
/// </list>
/// </summary>
internal static unsafe class GgufTensorDecoder
{
    const int QuantBlock = 32;

    static readonly Dictionary<GgufTensorType, (int BlockElements, int BlockBytes, ScalarType Output)> Layouts = new()
    {
        [GgufTensorType.F32] = (1, 4, ScalarType.Float32),
        [GgufTensorType.F16] = (1, 2, ScalarType.Float16),
        [GgufTensorType.BF16] = (1, 2, ScalarType.BFloat16),
        [GgufTensorType.F64] = (1, 8, ScalarType.Float64),
        [GgufTensorType.I8] = (1, 1, ScalarType.Int8),
        [GgufTensorType.I16] = (1, 2, ScalarType.Int16),
        [GgufTensorType.I32] = (1, 4, ScalarType.Int32),
        [GgufTensorType.I64] = (1, 8, ScalarType.Int64),
        [GgufTensorType.Q8_0] = (QuantBlock, 2 + QuantBlock, ScalarType.Float32),
        [GgufTensorType.Q4_0] = (QuantBlock, 2 + QuantBlock / 2, ScalarType.Float32),
    };

    /// <summary>Names of the readable types, for messages.</summary>
    public static string SupportedNames => string.Join(", ", Layouts.Keys);

    public static bool IsSupported(GgufTensorType type) => Layouts.ContainsKey(type);

    /// <summary>Values per block (1 for plain types); a row (ne[0]) must hold whole blocks.</summary>
    public static int BlockElements(GgufTensorType type) => Layouts[type].BlockElements;

    /// <summary>The element type a tensor of <paramref name="type"/> reads as.</summary>
    public static ScalarType OutputType(GgufTensorType type) => Layouts[type].Output;

    /// <summary>Stored bytes of <paramref name="elements"/> values (a multiple of the block size).</summary>
    /// <exception cref="OverflowException">Too large for 64 bits.</exception>
    public static long ByteLength(GgufTensorType type, long elements)
    {
        var (block, bytes, _) = Layouts[type];
        return checked(elements / block * bytes);
    }

    /// <summary>Decodes a tensor whose stored bytes start at <paramref name="data"/>.</summary>
    public static Tensor Decode(GgufTensorInfo info, byte* data)
    {
        var tensor = empty(info.Shape, OutputType(info.Type));
        switch (info.Type)
        {
            case GgufTensorType.Q8_0:
                DequantizeQ8_0(data, (float*)NativeTensorMemory.DataPointer(tensor), info.ElementCount / QuantBlock);
                break;
            case GgufTensorType.Q4_0:
                DequantizeQ4_0(data, (float*)NativeTensorMemory.DataPointer(tensor), info.ElementCount / QuantBlock);
                break;
            default:
                NativeTensorMemory.CopyInto(tensor, data, info.ByteLength);
                break;
        }
        return tensor;
    }

    static float Scale(byte* block) => (float)BitConverter.UInt16BitsToHalf((ushort)(block[0] | block[1] << 8));

    static void DequantizeQ8_0(byte* data, float* output, long blocks)
    {
        for (long b = 0; b < blocks; b++, data += 2 + QuantBlock, output += QuantBlock)
        {
            float d = Scale(data);
            var q = (sbyte*)(data + 2);
            for (int i = 0; i < QuantBlock; i++) output[i] = d * q[i];
        }
    }

    static void DequantizeQ4_0(byte* data, float* output, long blocks)
    {
        const int half = QuantBlock / 2;
        for (long b = 0; b < blocks; b++, data += 2 + half, output += QuantBlock)
        {
            float d = Scale(data);
            byte* q = data + 2;
            for (int j = 0; j < half; j++)
            {
                output[j] = d * ((q[j] & 0x0F) - 8);
                output[j + half] = d * ((q[j] >> 4) - 8);
            }
        }
    }
}
