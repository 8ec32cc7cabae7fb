using System.IO.MemoryMappedFiles;

namespace PeftSharp.IO;

/// <summary>A read-only memory map of a whole file, mapped on first use; the base address of its bytes.</summary>
internal sealed unsafe class MappedFile : IDisposable
{
    readonly string _path;
    MemoryMappedFile? _map;
    MemoryMappedViewAccessor? _view;
    byte* _base;

    public MappedFile(string path) => _path = path;

    /// <summary>Address of the file's first byte (maps the file the first time).</summary>
    public byte* Base
    {
        get
        {
            if (_base != null) return _base;
            _map = MemoryMappedFile.CreateFromFile(_path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _base = pointer + _view.PointerOffset;
            return _base;
        }
    }

    public void Dispose()
    {
        if (_view != null)
        {
            if (_base != null) _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
        _base = null;
        _view = null;
        _map = null;
    }
}
