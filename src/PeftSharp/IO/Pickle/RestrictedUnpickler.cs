using System.Buffers.Binary;
using System.Text;

namespace PeftSharp.IO.Pickle;

/// <summary>
/// Reads a pickle (protocols 2 to 5, the opcodes torch.save emits) into plain data without executing anything:
/// None, bool, long, double, string, byte[], tuples (object?[]), lists (List&lt;object?&gt;), dicts
/// (<see cref="PickleDict"/>), and what the allowed globals of <see cref="TorchGlobals"/> build (tensor and storage
/// references). A global off the allow-list is refused at the opcode that names it; calling, instantiating or
/// BUILDing anything else is refused too. Opcodes that only older protocols or out-of-band buffers use are refused
/// with their name.
/// </summary>
internal sealed class RestrictedUnpickler
{
    const int MaxProtocol = 5;
    readonly byte[] _data;
    readonly string _file;
    readonly string _record;
    readonly List<object?> _stack = new();
    readonly Stack<int> _marks = new();
    readonly Dictionary<long, object?> _memo = new();
    int _position;
    int _opcodeStart;

    RestrictedUnpickler(byte[] data, string file, string record)
    {
        _data = data;
        _file = file;
        _record = record;
    }

    /// <summary>Unpickles <paramref name="data"/>, the record <paramref name="record"/> of <paramref name="file"/>.</summary>
    /// <exception cref="CheckpointFormatException">Malformed or truncated pickle, a refused global or operation.</exception>
    public static object? Load(byte[] data, string file, string record = "data.pkl") => new RestrictedUnpickler(data, file, record).Run();

    object? Run()
    {
        while (true)
        {
            _opcodeStart = _position;
            byte opcode = ReadByte();
            try
            {
                if (Step(opcode)) return _stack[0];
            }
            catch (InvalidDataException e)
            {
                throw Error(e.Message);
            }
        }
    }

    /// <summary>Executes one opcode; true at STOP.</summary>
    bool Step(byte opcode)
    {
        switch (opcode)
        {
            case 0x80: // PROTO
                byte protocol = ReadByte();
                if (protocol > MaxProtocol) throw Error($"pickle protocol {protocol} is newer than the highest this reader knows ({MaxProtocol})");
                break;
            case 0x95: Take(8); break; // FRAME: a length hint only
            case (byte)'.': // STOP
                if (_stack.Count != 1) throw Error($"pickle stops with {_stack.Count} values on the stack instead of one");
                return true;

            case (byte)'N': Push(null); break;
            case 0x88: Push(true); break;
            case 0x89: Push(false); break;
            case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
            case (byte)'K': Push((long)ReadByte()); break;
            case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
            case 0x8a: Push(ReadLong(ReadByte())); break; // LONG1
            case 0x8b: Push(ReadLong(Length(BinaryPrimitives.ReadInt32LittleEndian(Take(4))))); break; // LONG4
            case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break; // BINFLOAT

            case (byte)'X': Push(Text(Length(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))); break; // BINUNICODE
            case 0x8c: Push(Text(ReadByte())); break; // SHORT_BINUNICODE
            case 0x8d: Push(Text(Length(BinaryPrimitives.ReadUInt64LittleEndian(Take(8))))); break; // BINUNICODE8
            case (byte)'T': Push(Text(Length(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))); break; // BINSTRING (Python 2 str)
            case (byte)'U': Push(Text(ReadByte())); break; // SHORT_BINSTRING
            case (byte)'B': Push(Take(Length(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))).ToArray()); break; // BINBYTES
            case (byte)'C': Push(Take(ReadByte()).ToArray()); break; // SHORT_BINBYTES
            case 0x8e: Push(Take(Length(BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))).ToArray()); break; // BINBYTES8
            case 0x96: Push(Take(Length(BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))).ToArray()); break; // BYTEARRAY8

            case (byte)'(': _marks.Push(_stack.Count); break; // MARK
            case (byte)'0': Pop(); break; // POP
            case (byte)'1': PopMark(); break; // POP_MARK
            case (byte)'2': Push(Peek()); break; // DUP
            case (byte)')': Push(Array.Empty<object?>()); break; // EMPTY_TUPLE
            case (byte)'t': Push(PopMark().ToArray()); break; // TUPLE
            case 0x85: Push(PopMany(1)); break; // TUPLE1
            case 0x86: Push(PopMany(2)); break; // TUPLE2
            case 0x87: Push(PopMany(3)); break; // TUPLE3
            case (byte)']': Push(new List<object?>()); break; // EMPTY_LIST
            case (byte)'l': Push(PopMark()); break; // LIST
            case (byte)'a': { var item = Pop(); ListAt(-1, "APPEND").Add(item); break; }
            case (byte)'e': { var items = PopMark(); ListAt(-1, "APPENDS").AddRange(items); break; }
            case 0x8f: Push(new List<object?>()); break; // EMPTY_SET: sets become lists
            case 0x90: { var items = PopMark(); ListAt(-1, "ADDITEMS").AddRange(items); break; }
            case 0x91: Push(PopMark()); break; // FROZENSET
            case (byte)'}': Push(new PickleDict()); break; // EMPTY_DICT
            case (byte)'d': { var items = PopMark(); Push(AddPairs(new PickleDict(), items)); break; } // DICT
            case (byte)'s': { var value = Pop(); var key = Pop(); DictAt(-1, "SETITEM").Set(key, value); break; }
            case (byte)'u': { var items = PopMark(); AddPairs(DictAt(-1, "SETITEMS"), items); break; }

            case (byte)'h': Push(MemoGet(ReadByte())); break; // BINGET
            case (byte)'j': Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break; // LONG_BINGET
            case (byte)'q': _memo[ReadByte()] = Peek(); break; // BINPUT
            case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Peek(); break; // LONG_BINPUT
            case 0x94: _memo[_memo.Count] = Peek(); break; // MEMOIZE

            case (byte)'c': { string module = Line(); string name = Line(); Push(TorchGlobals.Resolve(module, name)); break; } // GLOBAL
            case 0x93: // STACK_GLOBAL
            {
                var name = Pop();
                var module = Pop();
                if (module is not string m || name is not string n) throw Error("STACK_GLOBAL needs a module and a name string");
                Push(TorchGlobals.Resolve(m, n));
                break;
            }
            case (byte)'Q': Push(TorchGlobals.PersistentLoad(Pop())); break; // BINPERSID
            case (byte)'R': // REDUCE
            {
                var args = Pop();
                var callable = Pop();
                if (args is not object?[] tuple) throw Error("REDUCE needs a tuple of arguments");
                Push((callable as PickleGlobal ?? throw Error($"cannot call {Describe(callable)}")).Call(tuple));
                break;
            }
            case 0x81: // NEWOBJ: cls.__new__(cls, *args)
            {
                var args = Pop();
                var cls = Pop();
                if (cls is not TorchGlobals.OrderedDictType || args is not object?[] { Length: 0 })
                    throw Error($"NEWOBJ of {Describe(cls)} is refused (only collections.OrderedDict() can be created)");
                Push(new PickleDict());
                break;
            }
            case (byte)'b': // BUILD: obj.__setstate__(state); only a dict's attributes (state_dict()._metadata) are allowed, and dropped
            {
                Pop();
                if (Peek() is not PickleDict) throw Error($"BUILD on {Describe(Peek())} is refused (only dicts may carry state)");
                break;
            }
            default:
                throw Error($"opcode {OpcodeName(opcode)} is not supported (it is not one torch.save emits{(IsCallingOpcode(opcode) ? ", and it could create objects" : "")})");
        }
        return false;
    }

    object? MemoGet(long index) => _memo.TryGetValue(index, out var value) ? value : throw Error($"memo entry {index} is read before it is written");

    static PickleDict AddPairs(PickleDict dict, List<object?> items)
    {
        if (items.Count % 2 != 0) throw new InvalidDataException("dict items come in an odd number");
        for (int i = 0; i < items.Count; i += 2) dict.Set(items[i], items[i + 1]);
        return dict;
    }

    List<object?> ListAt(int fromTop, string opcode) =>
        PeekAt(fromTop) as List<object?> ?? throw Error($"{opcode} onto {Describe(PeekAt(fromTop))}, which is not a list");

    PickleDict DictAt(int fromTop, string opcode) =>
        PeekAt(fromTop) as PickleDict ?? throw Error($"{opcode} onto {Describe(PeekAt(fromTop))}, which is not a dict");

    void Push(object? value) => _stack.Add(value);

    object? Peek() => PeekAt(-1);

    object? PeekAt(int fromTop)
    {
        int index = _stack.Count + fromTop;
        if (index < (_marks.Count > 0 ? _marks.Peek() : 0) || index < 0) throw Error("stack underflow (malformed pickle)");
        return _stack[index];
    }

    object? Pop()
    {
        var value = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    object?[] PopMany(int count)
    {
        var items = new object?[count];
        for (int i = count - 1; i >= 0; i--) items[i] = Pop();
        return items;
    }

    List<object?> PopMark()
    {
        if (_marks.Count == 0) throw Error("no MARK to pop to (malformed pickle)");
        int mark = _marks.Pop();
        var items = _stack.GetRange(mark, _stack.Count - mark);
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    byte ReadByte() => Take(1)[0];

    ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _position)
            throw Error($"pickle is truncated: needs {count} more byte(s) at byte {_position} but has {_data.Length - _position}");
        var span = _data.AsSpan(_position, count);
        _position += count;
        return span;
    }

    int Length(long length) =>
        length < 0 || length > _data.Length - _position
            ? throw Error($"pickle is truncated or corrupt: a length of {length} bytes runs past its end ({_data.Length - _position} bytes left)")
            : (int)length;

    int Length(ulong length) => Length(length > long.MaxValue ? -1 : (long)length);

    string Text(int length)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take(length));
        }
        catch (DecoderFallbackException)
        {
            throw Error("string is not valid UTF-8");
        }
    }

    string Line()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _position);
        if (end < 0) throw Error("GLOBAL name is not terminated by a newline (truncated pickle)");
        string line = Encoding.ASCII.GetString(_data, _position, end - _position);
        _position = end + 1;
        return line;
    }

    /// <summary>A little-endian two's-complement integer of <paramref name="count"/> bytes (LONG1/LONG4).</summary>
    long ReadLong(int count)
    {
        var bytes = Take(count);
        if (count > 8) throw Error($"integer of {count} bytes does not fit in 64 bits");
        if (count == 0) return 0;
        long value = 0;
        for (int i = count - 1; i >= 0; i--) value = (value << 8) | bytes[i];
        int unused = 64 - 8 * count;
        return unused == 0 ? value : (value << unused) >> unused;
    }

    static bool IsCallingOpcode(byte opcode) => opcode is (byte)'i' or (byte)'o' or 0x92 or 0x82 or 0x83 or 0x84;

    static string OpcodeName(byte opcode) => opcode switch
    {
        (byte)'i' => "INST", (byte)'o' => "OBJ", 0x92 => "NEWOBJ_EX", 0x82 => "EXT1", 0x83 => "EXT2", 0x84 => "EXT4",
        (byte)'P' => "PERSID", (byte)'I' => "INT", (byte)'L' => "LONG", (byte)'F' => "FLOAT", (byte)'S' => "STRING",
        (byte)'V' => "UNICODE", (byte)'g' => "GET", (byte)'p' => "PUT", 0x97 => "NEXT_BUFFER", 0x98 => "READONLY_BUFFER",
        _ => $"0x{opcode:x2}",
    } + (opcode is >= 0x20 and < 0x7f ? $" ('{(char)opcode}')" : "");

    static string Describe(object? value) => value switch
    {
        null => "None",
        PickleGlobal global => $"'{global.QualifiedName}'",
        TensorReference => "a tensor",
        StorageReference => "a storage",
        object?[] => "a tuple",
        List<object?> => "a list",
        PickleDict => "a dict",
        string => "a string",
        _ => $"a {value.GetType().Name}",
    };

    CheckpointFormatException Error(string message) => new(_file, $"{_record} at byte {_opcodeStart}: {message}");
}
