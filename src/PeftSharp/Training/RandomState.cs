using static TorchSharp.torch;

namespace PeftSharp.Training;

/// <summary>
/// The state of libtorch's default CPU generator, which dropout draws from, as bytes: captured before a block runs so
/// that its recomputation repeats the same masks, and saved in checkpoints so that a resumed run draws what the
/// interrupted run would have drawn.
/// </summary>
internal static class RandomState
{
    /// <summary>A copy of the default CPU generator's state.</summary>
    public static byte[] Capture()
    {
        using var generator = Generator.Default;
        using var state = generator.get_state();
        return state.data<byte>().ToArray();
    }

    /// <summary>Puts the default CPU generator back into <paramref name="state"/>.</summary>
    public static void Restore(byte[] state)
    {
        using var generator = Generator.Default;
        using var tensor = TorchSharp.torch.tensor(state, ScalarType.Byte);
        generator.set_state(tensor);
    }
}
