"""tr.save / tr.load: checkpoints as .npz archives read without pickle, so a crafted file cannot run code. The
object (nested dicts, lists, tuples, scalars, Tensors, arrays, whole Modules) is a JSON string stored in the archive,
each array its own entry (structure.py); Modules are rebuilt only from allowed classes (allowlist.py); writes are
crash-safe (files.py). Imports: the standard library, backend and the serialization submodules."""

import json
import warnings

from .. import backend as B
from .. import devices
from .allowlist import (
    UnsafeGlobalError,
    add_safe_globals,
    clear_safe_globals,
    dotted_name,
    get_safe_globals,
    is_allowed,
    safe_globals,
)
from .files import read_arrays, target, write_atomic
from .structure import Corrupt, Reader, Writer

__all__ = ["save", "load", "safe_globals", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "get_unsafe_globals_in_checkpoint", "UnsafeGlobalError"]

_STRUCTURE = "__tinygrad_rnn_structure__"
_FORMAT = "tinygrad_rnn.checkpoint/2"
_READABLE = ("tinygrad_rnn.checkpoint/1", _FORMAT)  # /1 had only dict, tuple and array tags: a subset of /2


def save(obj, f, pickle_protocol=None):
    """Write `obj` to `f` (a path, str or os.PathLike, or a binary file object) as an .npz archive.

    obj: nested dicts (keys str/int/float/bool/None), OrderedDicts, lists, tuples and sets of Tensors, NumPy arrays,
    NumPy scalars, numbers, strings, bools, None, dtypes and devices -- e.g. {"model": model.state_dict(), "optim":
    opt.state_dict(), "epoch": 3} -- or a whole nn.Module (with its submodules, parameters, buffers and plain
    attributes). Everything comes back with its type: int stays int, tuple stays tuple, dtypes and key order are
    kept. A Tensor or Module reached twice is stored once and comes back as one object (tied weights stay tied).
    Device tensors are stored as host arrays, so a GPU checkpoint loads on NumPy.

    A path is written crash-safe: into `.{name}.tmp` next to it, flushed to disk, renamed over the target, so the
    target is always the old or the new checkpoint and at most that one temp file can be left by a crash. A file
    object is written as is (like np.savez). pickle_protocol is accepted for torch.save compatibility and unused.

        tr.save(model, "model.npz")                      # whole model; tr.load it under safe_globals
        tr.save({"model": model.state_dict(), "epoch": 3}, "ckpt.npz")
    """
    path, fileobj, _ = target(f, "tr.save", "write")
    writer = Writer()
    structure = json.dumps({"format": _FORMAT, "data": writer.encode(obj, "obj")}, allow_nan=True)
    entries = {_STRUCTURE: B.np.array(structure), **writer.arrays}
    if fileobj is not None:
        B.np.savez(fileobj, **entries)
    else:
        write_atomic(entries, path)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None):
    """Read what tr.save wrote, from a path or a binary file object. Never unpickles.

    NumPy arrays come back as NumPy arrays, Tensors as Tensors (Parameters as Parameters) on the active backend,
    Modules as Modules. A Module's class must be allowed: tinygrad_rnn's own classes always are; your classes
    when listed in `with tr.serialization.safe_globals([MyModel]):` or tr.serialization.add_safe_globals([...]).
    A Module is made with its class's __new__ and given its saved attributes (as unpickling does); __init__ is
    not called and nothing is imported.

    weights_only: PyTorch's meaning, as far as it applies without pickle. None or True (PyTorch's default since
    2.6): only allowed classes. False ("I trust this file"): also any nn.Module class that already exists in this
    process under the recorded name -- still no import, no call, no pickle. map_location (a device, a string, or
    a dict of them) must name a device the active backend serves; tensors are made on that backend's device.
    mmap is accepted and ignored. A plain np.savez archive loads as a dict of its arrays.

    FileNotFoundError for a missing file; ValueError naming the file for one that is not a checkpoint (truncated,
    random bytes, pickled data, a PyTorch .pt); UnsafeGlobalError (a ValueError and a pickle.UnpicklingError) for
    a class or function that is not allowed."""
    if pickle_module is not None:
        raise ValueError("tr.load: pickle_module is not supported: tinygrad_rnn checkpoints never use pickle")
    if weights_only is not None and not isinstance(weights_only, bool):
        raise TypeError(f"tr.load: weights_only must be True, False or None, got {weights_only!r}")
    if mmap:
        warnings.warn("tr.load: mmap=True is ignored; the archive is read into memory", stacklevel=2)
    _check_map_location(map_location)
    data, arrays, name = _read(f)
    if data is _PLAIN_NPZ:
        return arrays
    try:
        return Reader(arrays, weights_only, name).load(data)
    except (Corrupt, RecursionError) as e:
        raise ValueError(f"tr.load: {name} is corrupt: cannot read its structure ({e})") from None


def get_unsafe_globals_in_checkpoint(f):
    """The classes and functions ("module.Name") a checkpoint refers to that tr.load would refuse now (PyTorch's
    name): what to list in safe_globals, found without rebuilding anything."""
    data, _, _ = _read(f)
    found, stack = [], [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for tag in ("module", "function"):
                name = node.get(tag)
                if isinstance(name, str) and not is_allowed(tag, name) and dotted_name(name) not in found:
                    found.append(dotted_name(name))
            node = list(node.values())
        if isinstance(node, list):
            stack.extend(reversed(node))
    return found

_PLAIN_NPZ = object()


def _read(f):
    """(JSON structure, arrays, name for messages); the structure is _PLAIN_NPZ for an archive np.savez wrote."""
    path, fileobj, name = target(f, "tr.load", "read")
    arrays = read_arrays(path, fileobj, name)
    if _STRUCTURE not in arrays:
        return _PLAIN_NPZ, arrays, name
    structure = arrays.pop(_STRUCTURE)
    try:
        if structure.dtype.kind != "U" or structure.ndim != 0:
            raise Corrupt("its structure entry is not a string")
        meta = json.loads(str(structure[()]))
        if not isinstance(meta, dict) or meta.get("format") not in _READABLE or "data" not in meta:
            raise Corrupt(f"unknown format {meta.get('format') if isinstance(meta, dict) else str(meta)[:40]!r}")
    except (Corrupt, json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"tr.load: {name} is corrupt: cannot read its structure ({e})") from None
    return meta["data"], arrays, name

def _check_map_location(map_location):
    if map_location is None:
        return
    if callable(map_location) and not isinstance(map_location, devices.device):
        raise TypeError("tr.load: map_location as a function is not supported (it works on torch storages); pass a "
                        "device such as 'cpu' or tr.device('cuda')")
    for d in map_location.values() if isinstance(map_location, dict) else [map_location]:
        devices.check(d, "tr.load")
