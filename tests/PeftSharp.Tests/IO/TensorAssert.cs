using static TorchSharp.torch;

namespace PeftSharp.Tests.IO;

public static class TensorAssert
{
    /// <summary>Same dtype, same shape, and every element bit-for-bit equal (no tolerance).</summary>
    public static void Identical(Tensor expected, Tensor actual, string what)
    {
        Assert.True(expected.dtype == actual.dtype, $"{what}: dtype {actual.dtype}, expected {expected.dtype}");
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        using var same = expected.eq(actual).all();
        Assert.True(same.item<bool>(), $"{what}: values differ (max |diff| {Fixtures.MaxAbsDiff(expected, actual)})");
    }
}
