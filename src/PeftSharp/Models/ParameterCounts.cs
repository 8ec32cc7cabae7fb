using PeftSharp.IO;
using static TorchSharp.torch;

namespace PeftSharp.Models;

/// <summary>
/// Counting parameters as transformers' <c>num_parameters()</c> does: a tensor shared by several modules (an output head
/// tied to the embeddings) counts once. Sharing is recognised by memory address, since TorchSharp may hand out distinct
/// objects for one parameter.
/// </summary>
public static class ParameterCounts
{
    /// <summary>Identifies a tensor's storage: equal for every tensor object that wraps the same memory.</summary>
    public static long StorageIdentity(Tensor tensor) => NativeTensorMemory.Identity(tensor);

    /// <summary>Number of elements in the parameters of <paramref name="module"/>, shared ones counted once.</summary>
    public static long Unique(nn.Module module) =>
        module.parameters().DistinctBy(StorageIdentity).Sum(p => p.numel());
}
