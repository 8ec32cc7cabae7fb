namespace PeftSharp.IO.Gguf;

/// <summary>One tensor's entry in a GGUF file's tensor table.</summary>
/// <param name="Name">GGUF tensor name, e.g. "blk.0.attn_q.weight".</param>
/// <param name="Dimensions">GGUF's ne[]: fastest-varying dimension first, the reverse of torch's shape.</param>
/// <param name="Type">Stored element type.</param>
/// <param name="Offset">Start of its bytes, relative to the data section.</param>
/// <param name="ByteLength">Number of stored bytes.</param>
public sealed record GgufTensorInfo(string Name, long[] Dimensions, GgufTensorType Type, long Offset, long ByteLength)
{
    /// <summary>The torch/numpy shape: <see cref="Dimensions"/> reversed, e.g. [out, in] for a weight matrix.</summary>
    public long[] Shape => Dimensions.Reverse().ToArray();

    /// <summary>Number of elements.</summary>
    public long ElementCount => Dimensions.Aggregate(1L, (a, b) => a * b);
}
