namespace PeftSharp.IO.Pickle;

/// <summary>
/// The allow-list of the restricted unpickler: the only globals a torch.save state dict needs (tensor rebuilders,
/// storage types and dtypes, collections.OrderedDict), and the persistent ids that name storages. Every other global
/// is refused when the pickle names it, before anything could use it.
/// </summary>
internal static class TorchGlobals
{
    /// <summary>The allowed global <paramref name="module"/>.<paramref name="name"/>.</summary>
    /// <exception cref="InvalidDataException">Any global not on the allow-list; the message names it.</exception>
    public static PickleGlobal Resolve(string module, string name)
    {
        if (module == "collections" && name == "OrderedDict") return OrderedDictType.Instance;
        if (TensorRebuilder.TryResolve(module, name) is { } rebuilder) return rebuilder;
        if (TorchStorageType.TryResolve(module, name) is { } storage) return storage;
        throw new InvalidDataException(
            $"pickle refers to global '{module}.{name}', which a tensor checkpoint never needs; refused, because unpickling " +
            "arbitrary globals can run code (allowed: torch._utils tensor rebuilders, torch storage types, collections.OrderedDict)");
    }

    /// <summary>The storage a BINPERSID persistent id names: ('storage', storage type or dtype, key, location, numel).</summary>
    /// <exception cref="InvalidDataException">Any other persistent id.</exception>
    public static StorageReference PersistentLoad(object? id)
    {
        if (id is not object?[] { Length: 5 } tuple || tuple[0] is not "storage")
            throw new InvalidDataException("persistent id is not ('storage', type, key, location, numel)");
        var type = tuple[1] as TorchStorageType
            ?? throw new InvalidDataException($"storage persistent id names type {tuple[1] ?? "None"}, which is not a torch storage type");
        if (tuple[2] is not string key || key.Length == 0 || key.Contains('/') || key.Contains('\\') || key.Contains(".."))
            throw new InvalidDataException($"storage persistent id has key {tuple[2] ?? "None"}, which does not name a record under data/");
        string location = tuple[3] as string ?? "cpu";
        if (tuple[4] is not long numel || numel < 0)
            throw new InvalidDataException($"storage '{key}' has element count {tuple[4] ?? "None"}, which is not a non-negative integer");
        return new StorageReference(type, key, location, numel);
    }

    /// <summary>collections.OrderedDict: calling it makes a dict (empty, or from a list of pairs).</summary>
    internal sealed class OrderedDictType : PickleGlobal
    {
        public static readonly OrderedDictType Instance = new();

        OrderedDictType() : base("collections.OrderedDict") { }

        public override object? Call(IReadOnlyList<object?> args)
        {
            var dict = new PickleDict();
            if (args.Count == 0) return dict;
            if (args is [List<object?> pairs])
            {
                foreach (var pair in pairs)
                {
                    if (pair is not object?[] { Length: 2 } item)
                        throw new InvalidDataException("collections.OrderedDict expects a list of (key, value) pairs");
                    dict.Set(item[0], item[1]);
                }
                return dict;
            }
            throw new InvalidDataException($"collections.OrderedDict called with {args.Count} unexpected argument(s)");
        }
    }
}
