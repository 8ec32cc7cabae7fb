using static TorchSharp.torch;

namespace PeftSharp.Tuners.Common;

/// <summary>An adapter module that is not a wrapper around a base layer and removes itself from a model when unloading.</summary>
public interface IDetachableAdapter : IAdapterModule
{
    /// <summary>Removes this module from <paramref name="model"/>, where it sits at <paramref name="path"/>.</summary>
    void DetachFrom(nn.Module model, string path);
}
