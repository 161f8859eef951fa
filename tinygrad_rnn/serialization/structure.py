"""The object inside a checkpoint as plain JSON data plus named arrays, and back. Every JSON object is a tag, so user
data can never be mistaken for one: {"dict"/"odict"/"counter": [[key, value], ...]}, {"tuple"/"set": [...]},
{"array": name}, {"scalar": name} (a NumPy scalar), {"tensor": name, ...}, {"module": "pkg.mod:Class", "id",
"state"} and {"ref": id} for a Tensor or Module met before (tied weights stay tied), {"function": "pkg.mod:name"} for a
module-level function kept as an attribute (loaded only if allowed), {"dtype": "float32"} / {"device": "cpu"} for a
dtype or device kept as a setting. Imports: the standard library, backend, devices, tensor, nn.module, nn.parameter,
serialization.allowlist."""

import types
from collections import Counter, OrderedDict

from .. import backend as B
from .. import devices
from ..nn.module import Module
from ..nn.parameter import Parameter
from ..tensor import Tensor
from .allowlist import class_name, resolve, resolve_function

_SCALARS = (bool, int, float, str, type(None))
_PLAIN = ("numbers, strings, bools, None, dtypes, devices, Tensors, arrays, Modules, module-level functions, and "
          "lists, tuples, dicts and sets of those")


class Writer:
    """encode(obj) -> JSON-able data; the arrays it refers to collect in self.arrays (name -> host array)."""

    def __init__(self):
        self.arrays, self.ids, self.array_names = {}, {}, {}
        self.keep = []  # objects whose id() is in self.ids stay alive until the save ends, so ids are not reused

    def _array(self, host):
        name = f"a{len(self.arrays)}"
        self.arrays[name] = host
        return name

    def encode(self, obj, where):
        if isinstance(obj, B.np.generic):  # before the scalars: np.float64 is a float, and must stay an np.float64
            return {"scalar": self._array(_host(B.np.asarray(obj), where))}
        if isinstance(obj, _SCALARS):
            return obj
        if id(obj) in self.ids:
            return {"ref": self.ids[id(obj)]}
        if isinstance(obj, Tensor):
            return self._tensor(obj, where)
        if isinstance(obj, Module):
            return self._module(obj, where)
        if B.is_array(obj) or isinstance(obj, B.np.ndarray):
            # stored once however often it appears (a state_dict gives tied names one shared array); every
            # {"array": name} of that name loads as the same array
            if id(obj) not in self.array_names:
                self.keep.append(obj)
                self.array_names[id(obj)] = self._array(_host(obj, where))
            return {"array": self.array_names[id(obj)]}
        if type(obj) in (dict, OrderedDict, Counter):  # Counter: MultiStepLR's milestones, as in torch
            pairs = []
            for k, v in obj.items():
                if not isinstance(k, _SCALARS):
                    raise TypeError(f"tr.save: dict key {k!r} at {where} is a {type(k).__name__}; keys must be "
                                    "str, int, float, bool or None")
                pairs.append([k, self.encode(v, f"{where}[{k!r}]")])
            return {{OrderedDict: "odict", Counter: "counter"}.get(type(obj), "dict"): pairs}
        if type(obj) is list:
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if type(obj) in (tuple, set):
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
            return {type(obj).__name__: items}
        dtype = _dtype_name(obj)
        if dtype is not None:
            return {"dtype": dtype}
        if isinstance(obj, devices.device):  # e.g. `self.device = device`, common in PyTorch models
            return {"device": str(obj)}
        if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
            qual, module = getattr(obj, "__qualname__", ""), getattr(obj, "__module__", None)
            if module and "<" not in qual:  # saved by name, as pickle does; tr.load wants it allowed
                return {"function": f"{module}:{qual}"}
        kind = f"a {type(obj).__module__}.{type(obj).__qualname__}"
        if callable(obj):
            kind = f"a {type(obj).__name__} {getattr(obj, '__qualname__', '')}; functions are saved by name, so only "
            kind += "module-level ones"
        raise TypeError(f"tr.save: cannot save {where} ({kind}); a checkpoint holds {_PLAIN}")

    def _remember(self, obj):
        self.ids[id(obj)] = len(self.ids)
        self.keep.append(obj)
        return self.ids[id(obj)]

    def _tensor(self, t, where):
        # values and requires_grad only: a result of ops (e.g. {"loss": loss}) loads as a leaf, as in PyTorch
        name = self._array(_host(t.array, where))
        return {"tensor": name, "id": self._remember(t), "requires_grad": bool(t.requires_grad),
                "parameter": isinstance(t, Parameter)}

    def _module(self, m, where):
        cls = type(m)
        if any("__slots__" in vars(c) for c in cls.__mro__[:-1] if c is not Module):
            raise TypeError(f"tr.save: cannot save {where}: {cls.__qualname__} uses __slots__ (only attributes in "
                            "__dict__ are saved)")
        ref = self._remember(m)
        # a class's own __getstate__ decides what is saved, as with pickle (object's default gives __dict__)
        attrs = m.__getstate__() if cls.__getstate__ is not object.__getstate__ else vars(m)
        if type(attrs) is not dict or not all(isinstance(k, str) for k in attrs):
            raise TypeError(f"tr.save: {cls.__qualname__}.__getstate__ must return a dict of attribute names, got "
                            f"{type(attrs).__name__}")
        state = {"dict": [[k, self.encode(v, f"{where}.{k}")] for k, v in attrs.items()]}
        return {"module": class_name(cls), "id": ref, "state": state}


_DTYPE_NAMES = ("bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64")


def _backend_dtypes():
    return {"float32": B.float32, "float64": B.float64, "int64": B.int64, "bool": B.bool_}


def _dtype_name(obj):
    """'float32' for a dtype a module may keep as a setting (tr.float32, x.dtype, np.dtype('float32')), else None."""
    if isinstance(obj, B.np.dtype) or (isinstance(obj, type) and issubclass(obj, B.np.generic)):
        name = B.np.dtype(obj).name
    elif any(type(obj) is type(d) and obj == d for d in _backend_dtypes().values()):
        name = B.host_dtype(obj).name
    else:
        return None
    return name if name in _DTYPE_NAMES else None


def _host(arr, where):
    """arr as a host array for np.savez, not copied on NumPy (the save writes it before returning)."""
    host = B.to_host(arr) if B.is_array(arr) else B.np.asarray(arr)
    if host.dtype.kind not in "biuf":
        raise TypeError(f"tr.save: the array at {where} has dtype {host.dtype}; only bool, int and float arrays can "
                        "be saved")
    return host


class Corrupt(ValueError):
    pass


class Reader:
    """decode(data) rebuilds what Writer.encode wrote. Only the tags above are understood; a Module is made with
    its (allowed) class's __new__ and given its saved attributes (through the class's own __setstate__ if it has
    one, as unpickling does), never by calling __init__ with file data."""

    def __init__(self, arrays, weights_only, path):
        self.arrays, self.weights_only, self.path = arrays, weights_only, path
        self.objects, self.classes = {}, {}

    def load(self, data):
        out = self.decode(data)
        _check_no_module_cycles([m for m in self.objects.values() if isinstance(m, Module)])
        return out

    def decode(self, data, where="obj"):
        if isinstance(data, list):
            return [self.decode(v, f"{where}[{i}]") for i, v in enumerate(data)]
        if isinstance(data, _SCALARS):
            return data
        if not isinstance(data, dict):
            raise Corrupt(f"unexpected entry at {where}")
        keys = frozenset(data)
        if keys == {"array"}:
            return self._get_array(data["array"], where)
        if keys == {"scalar"}:
            a = self._get_array(data["scalar"], where)
            if a.ndim != 0:
                raise Corrupt(f"the scalar at {where} is not 0-d")
            return a[()]
        if keys in ({"dict"}, {"odict"}, {"counter"}):
            (tag, pairs), = data.items()
            out = {"odict": OrderedDict, "counter": Counter}.get(tag, dict)()
            for pair in _list(pairs, where):
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], _SCALARS)):
                    raise Corrupt(f"a dict entry at {where} is not a [key, value] pair")
                out[pair[0]] = self.decode(pair[1], f"{where}[{pair[0]!r}]")
            return out
        if keys in ({"tuple"}, {"set"}):
            (tag, items), = data.items()
            values = [self.decode(v, f"{where}[{i}]") for i, v in enumerate(_list(items, where))]
            try:
                return tuple(values) if tag == "tuple" else set(values)
            except TypeError:
                raise Corrupt(f"the set at {where} holds unhashable items") from None
        if keys == {"ref"}:
            if not _is_id(data["ref"]) or data["ref"] not in self.objects:
                raise Corrupt(f"{where} refers to an object that was not defined before it")
            return self.objects[data["ref"]]
        if keys == {"tensor", "id", "requires_grad", "parameter"}:
            return self._tensor(data, where)
        if keys == {"module", "id", "state"}:
            return self._module(data, where)
        if keys == {"dtype"}:  # the active backend's dtype object where there is one (tr.float32, ...)
            if data["dtype"] not in _DTYPE_NAMES:
                raise Corrupt(f"unknown dtype at {where}")
            return _backend_dtypes().get(data["dtype"]) or B.np.dtype(data["dtype"])
        if keys == {"device"}:
            try:
                return devices.device(data["device"])
            except (TypeError, ValueError):
                raise Corrupt(f"bad device at {where}") from None
        if keys == {"function"}:
            if not isinstance(data["function"], str) or data["function"].count(":") != 1:
                raise Corrupt(f"{where} names its function badly")
            return resolve_function(data["function"], self.path, where)
        raise Corrupt(f"unknown entry {str(data)[:80]} at {where}")

    def _get_array(self, name, where):
        if not isinstance(name, str) or name not in self.arrays:
            raise Corrupt(f"{where} names a missing array {str(name)[:40]}")
        return self.arrays[name]

    def _new_id(self, ref, where):
        if not _is_id(ref) or ref in self.objects:
            raise Corrupt(f"{where} has a bad or repeated id")
        return ref

    def _tensor(self, data, where):
        ref = self._new_id(data["id"], where)
        arr, rg, param = self._get_array(data["tensor"], where), data["requires_grad"], data["parameter"]
        if (not (isinstance(rg, bool) and isinstance(param, bool)) or (rg and arr.dtype.kind != "f")
                or arr.dtype.kind not in "biuf"):
            raise Corrupt(f"the tensor at {where} has bad flags or non-numeric data")
        t = Parameter(arr, requires_grad=rg) if param else Tensor(arr, requires_grad=rg)
        self.objects[ref] = t
        return t

    def _module(self, data, where):
        ref = self._new_id(data["id"], where)
        if not isinstance(data["module"], str) or data["module"].count(":") != 1:
            raise Corrupt(f"{where} names its class badly")
        if data["module"] not in self.classes:
            self.classes[data["module"]] = resolve(data["module"], self.weights_only, self.path, where)
        cls = self.classes[data["module"]]
        m = cls.__new__(cls)
        self.objects[ref] = m  # before the attributes, so a module that refers to itself works
        pairs = data["state"].get("dict") if isinstance(data["state"], dict) and len(data["state"]) == 1 else None
        if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                                                  for p in pairs):
            raise Corrupt(f"the attributes of {where} are not a list of [name, value] pairs")
        state = {k: self.decode(v, f"{where}.{k}") for k, v in pairs}
        for k, v in vars(Module()).items():  # what every Module has (a file from an older version may lack some)
            state.setdefault(k, v)
        _check_module_state(state, where)
        if hasattr(cls, "__setstate__"):  # the allowed class's own way to take its state, as unpickling calls it
            m.__setstate__(state)
        else:
            m.__dict__.update(state)
        return m


def _list(v, where):
    if not isinstance(v, list):
        raise Corrupt(f"a list was expected at {where}")
    return v


def _is_id(v):
    return type(v) is int and v >= 0


def _check_module_state(state, where):
    """What Module's own machinery relies on: its three registries hold only what they may hold."""
    kinds = {"_parameters": Parameter, "_buffers": Tensor, "_modules": Module}
    for store, kind in kinds.items():
        d = state.get(store)
        if not isinstance(d, dict) or not all(isinstance(k, str) and (v is None or isinstance(v, kind))
                                              for k, v in d.items()):
            raise Corrupt(f"{where}.{store} is not a dict of {kind.__name__}s")
    if not isinstance(state.get("training"), bool):
        raise Corrupt(f"{where}.training is not a bool")


def _check_no_module_cycles(modules):
    """A module that is its own (grand)child would send state_dict() round forever: only a crafted file has one."""
    done = set()
    for root in modules:
        if id(root) in done:
            continue
        on_path, stack = set(), [(root, _children(root))]
        on_path.add(id(root))
        while stack:
            m, children = stack[-1]
            child = next(children, None)
            while child is not None and id(child) in done:
                child = next(children, None)
            if child is None:
                stack.pop()
                on_path.discard(id(m))
                done.add(id(m))
            elif id(child) in on_path:
                raise Corrupt(f"a {type(child).__name__} module contains itself")
            else:
                on_path.add(id(child))
                stack.append((child, _children(child)))


def _children(m):
    return iter([c for c in m.__dict__.get("_modules", {}).values() if isinstance(c, Module)])
