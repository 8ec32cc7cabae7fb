namespace PeftSharp.IO.Pickle;

/// <summary>
/// A storage of a torch.save checkpoint: the persistent id ('storage', type, key, location, numel). Its bytes are the
/// archive record data/&lt;key&gt;; tensors sharing a storage name the same key.
/// </summary>
/// <param name="Type">Element type of the storage.</param>
/// <param name="Key">Name of its record under data/.</param>
/// <param name="Location">Device it was saved from ("cpu", "cuda:0"); it is always read to the CPU.</param>
/// <param name="Numel">Number of elements (bytes, for an untyped storage).</param>
internal sealed record StorageReference(TorchStorageType Type, string Key, string Location, long Numel);

/// <summary>
/// A tensor as torch._utils._rebuild_tensor_v2 describes it: a strided view of a storage. Nothing is read until the
/// tensor is asked for.
/// </summary>
/// <param name="Storage">The storage it views.</param>
/// <param name="Offset">Index of its first element in the storage, in elements.</param>
/// <param name="Shape">Its size.</param>
/// <param name="Stride">Elements between neighbours along each dimension.</param>
internal sealed record TensorReference(StorageReference Storage, long Offset, long[] Shape, long[] Stride)
{
    /// <summary>Number of elements of the tensor.</summary>
    public long Numel => Shape.Aggregate(1L, (a, b) => checked(a * b));

    /// <summary>
    /// The storage elements [Offset, Offset + Span) that the view touches; 0 for an empty tensor.
    /// </summary>
    /// <exception cref="OverflowException">Sizes and strides overflow 64 bits.</exception>
    public long Span
    {
        get
        {
            if (Shape.Any(s => s == 0)) return 0;
            long last = 0;
            for (int i = 0; i < Shape.Length; i++) last = checked(last + (Shape[i] - 1) * Stride[i]);
            return checked(last + 1);
        }
    }
}
