using System.IO.Compression;
using System.Text;
using static TorchSharp.torch;

namespace PeftSharp.IO.Pickle;

/// <summary>
/// A PyTorch checkpoint written by torch.save (1.6 and later): a zip archive whose one top folder (its name varies)
/// holds data.pkl, the pickled state dict, and data/&lt;key&gt;, the raw bytes of each storage. Opening parses data.pkl
/// with a <see cref="RestrictedUnpickler"/> (nothing is executed; any global other than tensor rebuilders, storage
/// types and OrderedDict is refused) and checks every tensor against its storage record; tensor bytes are read only
/// when asked for, one tensor at a time.
/// </summary>
public sealed class TorchCheckpointFile : ITensorFile
{
    readonly ZipArchive _archive;
    readonly string _folder;
    readonly OrderedDictionary<string, TensorReference> _tensors;

    TorchCheckpointFile(string path, ZipArchive archive, string folder, OrderedDictionary<string, TensorReference> tensors)
    {
        Path = path;
        _archive = archive;
        _folder = folder;
        _tensors = tensors;
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>Tensor names in the order of the state dict.</summary>
    public IEnumerable<string> Names => _tensors.Keys;

    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>Shape and element type of a tensor, without reading it.</summary>
    /// <exception cref="KeyNotFoundException">No tensor of that name.</exception>
    public TensorInfo Info(string name)
    {
        var tensor = Reference(name);
        return new TensorInfo(name, tensor.Storage.Type.Type, (long[])tensor.Shape.Clone(), Path);
    }

    /// <summary>Opens a checkpoint, unpickles its state dict and checks every tensor's storage. Tensor bytes are not read.</summary>
    /// <exception cref="CheckpointFormatException">Not a torch.save zip archive, a refused pickle, or inconsistent storages.</exception>
    public static TorchCheckpointFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"PyTorch checkpoint not found: {path}", path);
        CheckSignature(path);
        var stream = File.OpenRead(path);
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read);
        }
        catch (InvalidDataException e)
        {
            stream.Dispose();
            throw new CheckpointFormatException(path, $"not a readable zip archive, truncated or corrupt ({e.Message})", inner: e);
        }
        try
        {
            string folder = FindFolder(path, archive);
            CheckByteOrder(path, archive, folder);
            byte[] pickle = ReadRecord(path, archive, folder + "data.pkl");
            var root = RestrictedUnpickler.Load(pickle, path, folder + "data.pkl");
            var tensors = CollectTensors(path, root);
            foreach (var (name, tensor) in tensors) CheckStorage(path, archive, folder, name, tensor);
            return new TorchCheckpointFile(path, archive, folder, tensors);
        }
        catch
        {
            archive.Dispose();
            throw;
        }
    }

    /// <summary>Reads one tensor, in its stored dtype, into new contiguous CPU memory.</summary>
    /// <remarks>Only the storage elements the tensor views are read; a view of a shared storage is copied out on its own.</remarks>
    public Tensor Read(string name)
    {
        var tensor = Reference(name);
        var type = tensor.Storage.Type;
        long span = tensor.Span;
        if (span == 0) return zeros(tensor.Shape, type.Type);
        string record = $"{_folder}data/{tensor.Storage.Key}";
        var entry = _archive.GetEntry(record)!;
        var storage = empty(span, type.Type);
        try
        {
            using var stream = entry.Open();
            Skip(stream, tensor.Offset * type.ElementSize, record, name);
            ReadInto(stream, storage, record, name);
            var view = storage.as_strided(tensor.Shape, tensor.Stride);
            if (view.is_contiguous() && tensor.Numel == span) return view;
            using (view) return view.contiguous();
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException(Path, $"record {record} cannot be read ({e.Message})", name, e);
        }
        finally
        {
            storage.Dispose();
        }
    }

    public void Dispose() => _archive.Dispose();

    TensorReference Reference(string name) =>
        _tensors.TryGetValue(name, out var tensor) ? tensor : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    /// <summary>A zip starts with "PK\x03\x04"; checkpoints of torch before 1.6 are a bare pickle stream instead.</summary>
    static void CheckSignature(string path)
    {
        Span<byte> head = stackalloc byte[4];
        int count;
        using (var stream = File.OpenRead(path)) count = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        if (count == 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4) return;
        if (count >= 2 && head[0] == 0x80 && head[1] <= 5)
            throw new CheckpointFormatException(path,
                "is in the legacy (pre-1.6) torch.save format, which PeftSharp does not read; re-save it with torch 1.6 or later, or convert it to safetensors");
        throw new CheckpointFormatException(path, $"is not a torch.save zip archive (it starts with {Convert.ToHexString(head[..count])}, not a zip signature)");
    }

    /// <summary>The one top folder ("archive/", "pytorch_model/", ...) that holds data.pkl.</summary>
    static string FindFolder(string path, ZipArchive archive)
    {
        var candidates = archive.Entries.Select(e => e.FullName)
            .Where(n => n.EndsWith("/data.pkl", StringComparison.Ordinal) && n.IndexOf('/') == n.Length - "/data.pkl".Length)
            .ToList();
        return candidates.Count switch
        {
            1 => candidates[0][..^"data.pkl".Length],
            0 => throw new CheckpointFormatException(path, "has no <folder>/data.pkl record; this zip archive is not a torch.save checkpoint"),
            _ => throw new CheckpointFormatException(path, $"has {candidates.Count} data.pkl records ({string.Join(", ", candidates)}); a torch.save checkpoint has one"),
        };
    }

    /// <summary>torch writes storages in the saving machine's byte order and records it; only little-endian is read.</summary>
    static void CheckByteOrder(string path, ZipArchive archive, string folder)
    {
        if (archive.GetEntry(folder + "byteorder") is null) return;
        string order = Encoding.ASCII.GetString(ReadRecord(path, archive, folder + "byteorder")).Trim();
        if (order != "little")
            throw new CheckpointFormatException(path, $"storages are stored {order}-endian (record {folder}byteorder); only little-endian checkpoints are supported");
    }

    static byte[] ReadRecord(string path, ZipArchive archive, string name)
    {
        var entry = archive.GetEntry(name) ?? throw new CheckpointFormatException(path, $"record {name} is missing");
        if (entry.Length > Array.MaxLength) throw new CheckpointFormatException(path, $"record {name} is {entry.Length} bytes, too large to parse");
        try
        {
            using var stream = entry.Open();
            var bytes = new byte[entry.Length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new CheckpointFormatException(path, $"record {name} cannot be read, truncated or corrupt ({e.Message})", inner: e);
        }
    }

    /// <summary>The state dict's tensors by name; other values (step counters, nested config) are left out.</summary>
    static OrderedDictionary<string, TensorReference> CollectTensors(string path, object? root)
    {
        if (root is not PickleDict dict)
            throw new CheckpointFormatException(path, "data.pkl does not hold a dict of tensors (a state dict)");
        var tensors = new OrderedDictionary<string, TensorReference>(StringComparer.Ordinal);
        foreach (var (key, value) in dict.Items)
        {
            if (value is not TensorReference tensor) continue;
            if (key is not string name) throw new CheckpointFormatException(path, $"state dict has a tensor under the non-string key {key}");
            tensors[name] = tensor;
        }
        if (tensors.Count == 0) throw new CheckpointFormatException(path, "data.pkl holds no tensors");
        return tensors;
    }

    /// <summary>The storage record must exist and hold the storage's bytes, and the tensor must lie inside the storage.</summary>
    static void CheckStorage(string path, ZipArchive archive, string folder, string name, TensorReference tensor)
    {
        var storage = tensor.Storage;
        string record = $"{folder}data/{storage.Key}";
        var entry = archive.GetEntry(record) ?? throw new CheckpointFormatException(path, $"its storage record {record} is missing", name);
        long needed, end;
        try
        {
            needed = checked(storage.Numel * storage.Type.ElementSize);
            end = tensor.Numel == 0 ? 0 : checked(tensor.Offset + tensor.Span);
        }
        catch (OverflowException)
        {
            throw new CheckpointFormatException(path, $"size [{string.Join(", ", tensor.Shape)}] and stride [{string.Join(", ", tensor.Stride)}] overflow", name);
        }
        if (entry.Length < needed)
            throw new CheckpointFormatException(path,
                $"storage record {record} holds {entry.Length} bytes but its {storage.Numel} x {storage.Type.Type} elements need {needed} (truncated storage)", name);
        if (end > storage.Numel)
            throw new CheckpointFormatException(path,
                $"offset {tensor.Offset}, size [{string.Join(", ", tensor.Shape)}] and stride [{string.Join(", ", tensor.Stride)}] reach element {end - 1} " +
                $"of storage {storage.Key}, which has {storage.Numel}", name);
    }

    void Skip(Stream stream, long count, string record, string name)
    {
        if (count == 0) return;
        if (stream.CanSeek)
        {
            stream.Seek(count, SeekOrigin.Current);
            return;
        }
        var buffer = new byte[(int)Math.Min(count, 1 << 20)];
        while (count > 0)
        {
            int read = stream.Read(buffer, 0, (int)Math.Min(count, buffer.Length));
            if (read == 0) throw new CheckpointFormatException(Path, $"record {record} ends early", name);
            count -= read;
        }
    }

    unsafe void ReadInto(Stream stream, Tensor destination, string record, string name)
    {
        byte* data = NativeTensorMemory.DataPointer(destination);
        long remaining = NativeTensorMemory.ByteLength(destination);
        while (remaining > 0)
        {
            int read = stream.Read(new Span<byte>(data, (int)Math.Min(remaining, 1 << 26)));
            if (read == 0) throw new CheckpointFormatException(Path, $"record {record} ends early", name);
            data += read;
            remaining -= read;
        }
    }
}
