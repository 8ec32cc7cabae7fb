#!/usr/bin/env python3
"""Writes the PyTorch .bin fixtures of tests/PeftSharp.Tests/IO (run from anywhere with the system python3; no torch).

torch.save's zip format is a zip archive of stored (uncompressed) records under one top folder:
  <folder>/data.pkl       the object, pickled with persistent ids ('storage', StorageType, key, location, numel)
  <folder>/byteorder      "little"
  <folder>/data/<key>     each storage's raw little-endian bytes, aligned to 64 bytes in the archive
  <folder>/version        "3"
This script pickles with Python's real pickle module. Stand-in classes and functions registered in sys.modules under
torch's names (torch._utils._rebuild_tensor_v2, torch.FloatStorage, ...) make pickle emit exactly the globals torch
emits; a Pickler.persistent_id emits the storage ids. Nothing here imports or needs torch.

Output (beside this script, in torch-bin/):
  tensors.bin, tensors-proto5.bin   every storage type (also named by dtype), shared storages, non-contiguous views, scalars, parameters
  stories260K/                      the real stories260K weights (shared/models/stories260K-hf) as two .bin shards
                                    plus pytorch_model.bin.index.json and config.json
  os-system.bin, builtins-eval.bin, nested-reduce.bin, storage-call.bin   malicious pickles that must be refused
  unknown-storage.bin, short-storage.bin, missing-data-pkl.bin, legacy.bin, big-endian.bin   broken inputs
"""
import collections
import io
import json
import os
import pickle
import shutil
import struct
import sys
import types
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "torch-bin")
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def stand_in_module(name):
    module = types.ModuleType(name)
    sys.modules[name] = module
    return module


torch = stand_in_module("torch")
torch_utils = stand_in_module("torch._utils")
torch_storage = stand_in_module("torch.storage")


def stand_in_function(module, name):
    def function(*args):
        raise RuntimeError("stand-in for pickling only")
    function.__module__ = module.__name__
    function.__name__ = function.__qualname__ = name
    setattr(module, name, function)
    return function


def stand_in_class(module, name):
    cls = type(name, (), {"__module__": module.__name__})
    setattr(module, name, cls)
    return cls


rebuild_tensor_v2 = stand_in_function(torch_utils, "_rebuild_tensor_v2")
rebuild_tensor = stand_in_function(torch_utils, "_rebuild_tensor")
rebuild_parameter = stand_in_function(torch_utils, "_rebuild_parameter")

# storage class name -> struct format of one element (None: bfloat16, packed by hand)
FORMATS = {
    "FloatStorage": "f", "DoubleStorage": "d", "HalfStorage": "e", "BFloat16Storage": None,
    "LongStorage": "q", "IntStorage": "i", "ShortStorage": "h", "CharStorage": "b", "ByteStorage": "B",
    "BoolStorage": "?",
}
STORAGE_CLASSES = {name: stand_in_class(torch, name) for name in FORMATS}
STORAGE_CLASSES["UntypedStorage"] = stand_in_class(torch_storage, "UntypedStorage")
FORMATS["UntypedStorage"] = "B"
STORAGE_CLASSES["QInt8Storage"] = stand_in_class(torch, "QInt8Storage")   # real torch type PeftSharp does not read
FORMATS["QInt8Storage"] = "b"
STORAGE_CLASSES["float16"] = stand_in_class(torch, "float16")   # a dtype (torch.float16) naming the element type
FORMATS["float16"] = "e"


class Storage:
    """One torch storage: element type, values, and the key naming its record data/<key>."""

    def __init__(self, type_name, values, key, numel=None):
        self.type_name, self.values, self.key = type_name, list(values), str(key)
        self.numel = len(self.values) if numel is None else numel

    def data(self):
        fmt = FORMATS[self.type_name]
        if fmt is None:  # bfloat16: the top half of the float32 bits (values are chosen to be exact)
            return b"".join(struct.pack("<I", struct.unpack("<I", struct.pack("<f", v))[0])[2:] for v in self.values)
        return struct.pack("<%d%s" % (len(self.values), fmt), *self.values)


class Tensor:
    """Pickles as torch.Tensor does: _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])."""

    def __init__(self, storage, offset, size, stride, metadata=None, legacy=False):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)
        self.metadata, self.legacy = metadata, legacy

    def __reduce_ex__(self, protocol):
        if self.legacy:
            return rebuild_tensor, (self.storage, self.offset, self.size, self.stride)
        args = (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict())
        return rebuild_tensor_v2, args + ((self.metadata,) if self.metadata else ())


class Parameter:
    """Pickles as torch.nn.Parameter does: _rebuild_parameter(data, requires_grad, hooks)."""

    def __init__(self, data):
        self.data = data

    def __reduce_ex__(self, protocol):
        return rebuild_parameter, (self.data, True, collections.OrderedDict())


class Reduces:
    """Any object whose __reduce__ calls `function(*args)` when unpickled: what a malicious checkpoint contains."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


class TorchPickler(pickle.Pickler):
    def __init__(self, file, protocol, storages):
        super().__init__(file, protocol=protocol)
        self.storages = storages

    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            self.storages[obj.key] = obj
            return ("storage", STORAGE_CLASSES[obj.type_name], obj.key, "cpu", obj.numel)
        return None


def state_dict(items):
    """An OrderedDict carrying _metadata, as nn.Module.state_dict() returns."""
    result = collections.OrderedDict(items)
    result._metadata = collections.OrderedDict([("", {"version": 1})])
    return result


def pickle_bytes(obj, protocol, storages):
    buffer = io.BytesIO()
    TorchPickler(buffer, protocol, storages).dump(obj)
    return buffer.getvalue()


def write_zip(path, folder, records):
    """A zip as torch's PyTorchStreamWriter writes it: stored records, each record's data aligned to 64 bytes
    by padding the local header's extra field (id 'FB')."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as archive:
        for name, data in records:
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            header_end = raw.tell() + 30 + len(info.filename.encode()) + 4
            padding = -header_end % 64
            info.extra = b"FB" + struct.pack("<H", padding) + b"Z" * padding
            archive.writestr(info, data)


def torch_save(path, obj, protocol=2, folder="archive", byteorder=b"little", drop=(), truncate=None):
    storages = {}
    data_pkl = pickle_bytes(obj, protocol, storages)
    records = [("data.pkl", data_pkl), ("byteorder", byteorder)]
    for key in sorted(storages, key=int):
        data = storages[key].data()
        records.append((f"data/{key}", data if truncate is None or key not in truncate else data[:truncate[key]]))
    records += [("version", b"3\n"), (".data/serialization_id", b"0123456789012345678901234567890123456789")]
    write_zip(path, folder, [r for r in records if r[0] not in drop])


def fixture_tensors():
    """Every storage type, views sharing one storage, a scalar, an empty tensor, a parameter, the old 4-argument
    _rebuild_tensor and the 7-argument _rebuild_tensor_v2. Values follow formulas the tests repeat."""
    shared = Storage("FloatStorage", [i * 0.5 - 3 for i in range(12)], 0)
    tail = Storage("FloatStorage", [100.0 + i for i in range(10)], 1)
    items = [
        ("shared.matrix", Tensor(shared, 0, (3, 4), (4, 1))),            # [[-3, -2.5, ...], ...]
        ("shared.transposed", Tensor(shared, 0, (4, 3), (1, 4))),        # matrix.T: non-contiguous view
        ("shared.row", Tensor(shared, 4, (4,), (1,))),                   # matrix[1]
        ("shared.column", Tensor(shared, 2, (3,), (4,))),                # matrix[:, 2]
        ("shared.broadcast", Tensor(shared, 5, (2, 3), (0, 1))),         # stride 0: a row repeated
        ("tail.slice", Tensor(tail, 7, (3,), (1,))),                     # 107, 108, 109 at the end of a storage
        ("double", Tensor(Storage("DoubleStorage", [1.0 / 3, -2.25, 1e300], 2), 0, (3,), (1,))),
        ("half", Tensor(Storage("HalfStorage", [0.5, -1.25, 65504.0, 0.0009765625], 3), 0, (2, 2), (2, 1))),
        ("bfloat16", Tensor(Storage("BFloat16Storage", [1.5, -2.0, 0.15625, 3.0e38], 4), 0, (4,), (1,))),
        ("long", Tensor(Storage("LongStorage", [-(2 ** 62), 0, 2 ** 62 + 5], 5), 0, (3,), (1,))),
        ("int", Tensor(Storage("IntStorage", [-7, 2 ** 31 - 1], 6), 0, (2,), (1,))),
        ("short", Tensor(Storage("ShortStorage", [-32768, 12345], 7), 0, (2,), (1,))),
        ("char", Tensor(Storage("CharStorage", [-128, 127, 3], 8), 0, (3,), (1,))),
        ("byte", Tensor(Storage("ByteStorage", [0, 200, 255], 9), 0, (3,), (1,))),
        ("bool", Tensor(Storage("BoolStorage", [True, False, True], 10), 0, (3,), (1,))),
        ("untyped", Tensor(Storage("UntypedStorage", [1, 2, 3, 4], 11), 0, (2, 2), (2, 1))),
        ("scalar", Tensor(Storage("FloatStorage", [42.0], 12), 0, (), ())),
        ("empty", Tensor(Storage("FloatStorage", [], 13), 0, (0, 3), (3, 1))),
        ("parameter", Parameter(Tensor(Storage("FloatStorage", [1.0, 2.0, 3.0, 4.0], 14), 0, (2, 2), (2, 1)))),
        ("legacy_rebuild", Tensor(Storage("FloatStorage", [9.0, 8.0], 15), 0, (2,), (1,), legacy=True)),
        ("with_metadata", Tensor(Storage("FloatStorage", [5.0], 16), 0, (1,), (1,), metadata={"note": 1})),
        ("dtype_named", Tensor(Storage("float16", [0.5, 2.0], 17), 0, (2,), (1,))),
    ]
    return state_dict(items)


def stories_shards():
    """The real stories260K weights (HF layout, F32 safetensors) as two torch.save shards and an index."""
    path = os.path.join(REPO, "shared", "models", "stories260K-hf", "model.safetensors")
    with open(path, "rb") as file:
        blob = file.read()
    header_length = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + header_length])
    data = blob[8 + header_length:]
    names = sorted(k for k in header if k != "__metadata__")
    shards = [collections.OrderedDict(), collections.OrderedDict()]
    for key, name in enumerate(names):
        entry = header[name]
        assert entry["dtype"] == "F32"
        begin, end = entry["data_offsets"]
        values = struct.unpack("<%df" % ((end - begin) // 4), data[begin:end])
        shape = entry["shape"]
        strides = [1] * len(shape)
        for i in range(len(shape) - 2, -1, -1):
            strides[i] = strides[i + 1] * shape[i + 1]
        layer = int(name.split(".")[2]) if name.startswith("model.layers.") else -1
        shards[0 if layer < 3 else 1][name] = Tensor(Storage("FloatStorage", values, key), 0, shape, strides)
    directory = os.path.join(OUT, "stories260K")
    weight_map, total = {}, 0
    for i, shard in enumerate(shards):
        file_name = f"pytorch_model-0000{i + 1}-of-00002.bin"
        torch_save(os.path.join(directory, file_name), state_dict(shard.items()), folder=f"pytorch_model-0000{i + 1}-of-00002")
        for name, tensor in shard.items():
            weight_map[name] = file_name
            total += 4 * len(tensor.storage.values)
    with open(os.path.join(directory, "pytorch_model.bin.index.json"), "w") as file:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, file, indent=2, sort_keys=True)
        file.write("\n")
    shutil.copyfile(os.path.join(REPO, "shared", "models", "stories260K-hf", "config.json"), os.path.join(directory, "config.json"))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    out = lambda name: os.path.join(OUT, name)
    torch_save(out("tensors.bin"), fixture_tensors(), protocol=2, folder="tensors")
    torch_save(out("tensors-proto5.bin"), fixture_tensors(), protocol=5, folder="archive")
    stories_shards()

    weight = lambda key: Tensor(Storage("FloatStorage", [1.0, 2.0], key), 0, (2,), (1,))
    torch_save(out("os-system.bin"), state_dict([("weight", weight(0)), ("payload", Reduces(os.system, "echo pwned"))]))
    torch_save(out("builtins-eval.bin"), {"payload": Reduces(eval, "__import__('os').system('echo pwned')")}, protocol=4)
    hooked = Tensor(Storage("FloatStorage", [1.0], 0), 0, (1,), (1,))
    hooked.metadata = {"hooks": [(1, Reduces(shutil.rmtree, "/"))]}
    torch_save(out("nested-reduce.bin"), state_dict([("weight", hooked)]))
    torch_save(out("storage-call.bin"), state_dict([("weight", Reduces(STORAGE_CLASSES["FloatStorage"], 10))]))

    torch_save(out("unknown-storage.bin"), state_dict([("weight", Tensor(Storage("QInt8Storage", [1, 2], 0), 0, (2,), (1,)))]))
    torch_save(out("short-storage.bin"), state_dict([("weight", Tensor(Storage("FloatStorage", [float(i) for i in range(6)], 0), 0, (2, 3), (3, 1)))]),
               truncate={"0": 12})
    torch_save(out("missing-data-pkl.bin"), state_dict([("weight", weight(0))]), drop=("data.pkl",))
    torch_save(out("big-endian.bin"), state_dict([("weight", weight(0))]), byteorder=b"big")
    with open(out("legacy.bin"), "wb") as file:  # torch < 1.6: magic number, protocol version, sys info, then the object
        for value in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
            pickle.dump(value, file, protocol=2)


if __name__ == "__main__":
    main()
