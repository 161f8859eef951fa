"""tr.save / tr.load: checkpoints as .npz files read without pickle, so a crafted file cannot run code.
The structure (nested dicts, lists, tuples, plain scalars) is a JSON string stored in the archive; each array is
its own entry. Writes are atomic. Imports: the standard library, backend, tensor."""

import json
import os
import tempfile
import zipfile

from . import backend as B
from .tensor import Tensor

_STRUCTURE = "__tinygrad_rnn_structure__"
_FORMAT = "tinygrad_rnn.checkpoint/1"
_SCALARS = (bool, int, float, str, type(None))


def _encode(obj, arrays, where):
    """obj -> JSON-able data; arrays go to `arrays` (name -> host array). Every JSON object is a tag
    ({"dict": pairs}, {"tuple": items}, {"array": name}), so user data can never be mistaken for one."""
    if isinstance(obj, _SCALARS):
        return obj
    if isinstance(obj, Tensor):
        obj = obj.array
    if B.is_array(obj) or isinstance(obj, B.np.ndarray):
        host = B.np.array(B.to_host(obj) if B.is_array(obj) else obj, copy=True)
        if host.dtype.kind not in "biuf":
            raise TypeError(f"tr.save: the array at {where} has dtype {host.dtype}; only bool, int and float "
                            "arrays can be saved")
        name = f"a{len(arrays)}"
        arrays[name] = host
        return {"array": name}
    if isinstance(obj, B.np.generic):
        return obj.item()
    if isinstance(obj, dict):
        pairs = []
        for k, v in obj.items():
            if not isinstance(k, _SCALARS):
                raise TypeError(f"tr.save: dict key {k!r} at {where} is a {type(k).__name__}; keys must be "
                                "str, int, float, bool or None")
            pairs.append([k, _encode(v, arrays, f"{where}[{k!r}]")])
        return {"dict": pairs}
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else {"tuple": items}
    raise TypeError(f"tr.save: cannot save a {type(obj).__name__} at {where}; a checkpoint holds (nested) dicts, "
                    "lists and tuples of Tensors, arrays, numbers, strings, bools and None (save "
                    "model.state_dict(), not the model)")


def _decode(data, arrays, path):
    if isinstance(data, list):
        return [_decode(v, arrays, path) for v in data]
    if not isinstance(data, dict):
        return data
    if set(data) == {"array"} and data["array"] in arrays:
        return arrays[data["array"]]
    if set(data) == {"dict"}:
        return {k: _decode(v, arrays, path) for k, v in data["dict"]}
    if set(data) == {"tuple"}:
        return tuple(_decode(v, arrays, path) for v in data["tuple"])
    raise ValueError(f"tr.load: {path} is corrupt: unknown entry {str(data)[:80]} in its structure")


def save(obj, path):
    """Write `obj` (e.g. {"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}) to `path` as an
    .npz archive. Tensor and device values are stored as host arrays, so a checkpoint made on the GPU loads on
    NumPy. The file appears complete or not at all: written to a temporary file in the same folder, flushed to
    disk, then renamed over `path`."""
    path = os.fspath(path)
    arrays = {}
    structure = json.dumps({"format": _FORMAT, "data": _encode(obj, arrays, "obj")})
    entries = {_STRUCTURE: B.np.array(structure), **arrays}
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            B.np.savez(f, **entries)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    try:  # make the rename itself durable where the OS allows it
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def load(path):
    """Read a checkpoint written by tr.save; arrays come back as NumPy arrays, tuples as tuples. Never unpickles.
    A plain .npz of arrays (np.savez) loads as a dict of them. Raises FileNotFoundError for a missing file and
    ValueError, naming the path, for a file that is not a checkpoint."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"tr.load: no such file: {path}")
    try:
        archive = B.np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"tr.load: {path} is not a tinygrad_rnn checkpoint (.npz written by tr.save): {e}") from None
    if not hasattr(archive, "files"):
        raise ValueError(f"tr.load: {path} is not a tinygrad_rnn checkpoint: it holds a single array (.npy), "
                         "not an .npz archive written by tr.save")
    try:
        with archive:
            arrays = {k: archive[k] for k in archive.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"tr.load: {path} is not a readable checkpoint: {e}") from None
    if _STRUCTURE not in arrays:
        return arrays
    try:
        meta = json.loads(str(arrays.pop(_STRUCTURE)[()]))
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise ValueError(f"unknown format {meta.get('format') if isinstance(meta, dict) else meta!r}")
        return _decode(meta["data"], arrays, path)
    except (json.JSONDecodeError, RecursionError, KeyError, TypeError, ValueError) as e:
        if isinstance(e, ValueError) and str(e).startswith("tr.load"):
            raise
        raise ValueError(f"tr.load: {path} is corrupt: cannot read its structure ({e})") from None

