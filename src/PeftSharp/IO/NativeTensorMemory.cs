using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace PeftSharp.IO;

/// <summary>
/// Raw access to a CPU tensor's bytes. TorchSharp's <c>Tensor.bytes</c> is a Span and stops at 2 GB;
/// checkpoint IO copies whole tensors of any size, so it asks the native library for the data pointer.
/// </summary>
internal static unsafe partial class NativeTensorMemory
{
    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_data(IntPtr handle);

    /// <summary>Address of the first element of a contiguous CPU tensor.</summary>
    public static byte* DataPointer(Tensor tensor)
    {
        if (tensor.device_type != TorchSharp.DeviceType.CPU)
            throw new ArgumentException("tensor must live on the CPU", nameof(tensor));
        if (!tensor.is_contiguous())
            throw new ArgumentException("tensor must be contiguous", nameof(tensor));
        return (byte*)THSTensor_data(tensor.Handle);
    }

    /// <summary>
    /// Address of a tensor's first element: the same for every TorchSharp object that wraps the same memory, so it
    /// identifies tied parameters (an output head sharing the embedding matrix) where object handles differ.
    /// </summary>
    public static long Identity(Tensor tensor) => (long)THSTensor_data(tensor.Handle);

    /// <summary>Number of bytes of the tensor's elements.</summary>
    public static long ByteLength(Tensor tensor) => tensor.numel() * tensor.element_size();

    /// <summary>Copies <paramref name="length"/> bytes from <paramref name="source"/> into a contiguous tensor.</summary>
    public static void CopyInto(Tensor destination, byte* source, long length)
    {
        if (length != ByteLength(destination))
            throw new ArgumentException($"byte count {length} does not match the tensor's {ByteLength(destination)}", nameof(length));
        if (length > 0) Buffer.MemoryCopy(source, DataPointer(destination), length, length);
    }

    /// <summary>Writes a contiguous tensor's bytes to a stream in chunks of at most 64 MB.</summary>
    public static void WriteTo(Tensor tensor, Stream stream)
    {
        byte* data = DataPointer(tensor);
        long remaining = ByteLength(tensor);
        const int chunk = 64 << 20;
        while (remaining > 0)
        {
            int count = (int)Math.Min(chunk, remaining);
            stream.Write(new ReadOnlySpan<byte>(data, count));
            data += count;
            remaining -= count;
        }
    }
}
