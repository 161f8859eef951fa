"""nn.Module: parameters and submodules registered by attribute assignment, state dicts, train/eval.
Imports: backend, autograd, devices, tensor, nn.parameter."""

from collections import OrderedDict, namedtuple

from .. import backend as B
from ..autograd import bump_version
from ..devices import to_args
from ..tensor import Tensor
from .parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of every layer. Assigning a Parameter or a Module to an attribute registers it, in
    assignment order (which is the order of named_parameters() and state_dict(), as in PyTorch)."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            # Plain settings may be stored before Module.__init__ runs (a subclass's __init__ can need them
            # first); a Parameter or Module could not be registered yet, so that is an error.
            if isinstance(value, (Parameter, Module)):
                raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning {name!r}")
            object.__setattr__(self, name, value)
            return
        # PyTorch's rules: a name keeps its kind and its place in registration order (so re-tying
        # `decoder.weight = encoder.weight` leaves state_dict's key order alone); a registered parameter, child or
        # buffer can be replaced only by one of its kind or None, never silently turned into a plain attribute.
        params, mods, bufs = self._parameters, self._modules, self._buffers
        if isinstance(value, Parameter):
            _discard(name, self.__dict__, bufs, mods)
            params[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' (nn.Parameter or None "
                                "expected)")
            params[name] = None
        elif isinstance(value, Module):
            _discard(name, self.__dict__, params, bufs)
            mods[name] = value
        elif name in mods:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' (nn.Module or None "
                                "expected)")
            mods[name] = None
        elif name in bufs:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None "
                                "expected)")
            bufs[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for d in (self._parameters, self._buffers, self._modules):
            if name in d:
                del d[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register a Parameter, or None (an absent optional parameter such as bias=False)."""
        _check_name(self, "register_parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"{type(self).__name__}.register_parameter: cannot assign a {type(param).__name__} to "
                            f"parameter {name!r} (an nn.Parameter or None required)")
        if param is None:
            self.__dict__.pop(name, None)
            self._parameters[name] = None
        else:
            setattr(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """A non-learnable tensor that is part of the state (saved in state_dict when persistent)."""
        _check_name(self, "register_buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"{type(self).__name__}.register_buffer: cannot assign '{type(tensor).__name__}' object to "
                            f"buffer {name!r} (a Tensor or None required)")
        _discard(name, self.__dict__, self._parameters, self._modules)
        self._buffers[name] = tensor
        skip = self.__dict__.get("_non_persistent", set())
        object.__setattr__(self, "_non_persistent", skip | {name} if not persistent else skip - {name})

    def add_module(self, name, module):
        _check_name(self, "add_module", name)
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.add_module: {name!r} must be an nn.Module, got "
                            f"{type(module).__name__}")
        setattr(self, name, module)

    # ----- traversal
    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return (m for _, m in self._modules.items())

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(qualified name, module) for self and every submodule, depth first; a module reached twice is listed
        once unless remove_duplicate=False (PyTorch's signature)."""
        seen = memo if memo is not None else set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if remove_duplicate:
                if m in seen:
                    continue
                seen.add(m)
            yield name, m
            children = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items() if c is not None]
            stack.extend(reversed(children))

    def modules(self):
        return (m for _, m in self.named_modules())

    def _named_members(self, store, prefix, recurse, remove_duplicate):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mname, m in mods:
            for k, t in getattr(m, store).items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield (f"{mname}.{k}" if mname else k), t

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) pairs in registration order; a parameter shared by two modules (tied weights)
        appears once, under the first name that reaches it, unless remove_duplicate=False."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    def apply(self, fn):
        if not callable(fn):
            raise TypeError(f"{type(self).__name__}.apply: fn must be callable, got {type(fn).__name__}")
        for m in list(self.modules())[::-1]:
            fn(m)
        return self

    # ----- modes and dtypes
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError(f"{type(self).__name__}.train: mode is expected to be a bool, got {mode!r}")
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.array = p.grad.array * 0

    def to(self, *args, dtype=None, device=None, non_blocking=False):
        """module.to(device), .to(dtype), .to(device, dtype) or .to(tensor), as PyTorch. The device must be one the
        active backend serves (tr.device; a no-op then); a float dtype converts every floating parameter and buffer
        in place (tr.float32 / tr.float64)."""
        dtype = to_args(f"{type(self).__name__}.to", args, dtype, device)
        if dtype is None:
            return self
        if dtype not in B.FLOAT_DTYPES:
            raise TypeError(f"{type(self).__name__}.to: expected tr.float32 or tr.float64, got {dtype!r}")
        for p in self.parameters():
            p.array = B.xp.astype(p.array, dtype)
            p.grad = None
        for _, b in self.named_buffers():
            if B.is_floating(b.dtype):
                b.array = B.xp.astype(b.array, dtype)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def float(self):
        return self.to(B.float32)

    def double(self):
        return self.to(B.float64)

    # ----- state
    def _state_items(self, prefix=""):
        """(name, tensor) as PyTorch's state_dict walks: each module's parameters, then its persistent buffers,
        then its children, with no de-duplication, so a tied weight is listed under every name that reaches it."""
        stack = [(prefix, self)]
        while stack:
            mprefix, m = stack.pop()
            skip = m.__dict__.get("_non_persistent", set())
            for k, p in m._parameters.items():
                if p is not None:
                    yield mprefix + k, p
            for k, b in m._buffers.items():
                if b is not None and k not in skip:
                    yield mprefix + k, b
            stack.extend(reversed([(f"{mprefix}{k}.", c) for k, c in m._modules.items() if c is not None]))

    def state_dict(self, *, destination=None, prefix="", keep_vars=False):
        """OrderedDict of name -> host NumPy array (a copy), whatever the backend; with keep_vars=True the
        Parameters and buffers themselves. Tied parameters appear under each of their names (one shared copy)."""
        out = OrderedDict() if destination is None else destination
        copies = {}
        for k, t in self._state_items(prefix):
            if keep_vars:
                out[k] = t
            else:
                if id(t) not in copies:
                    copies[id(t)] = B.np.array(B.to_host(t.array), copy=True)
                out[k] = copies[id(t)]
        return out

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy arrays (NumPy arrays, Tensors, or anything with .numpy()) into the parameters and buffers,
        converted to each one's dtype. All or nothing: every entry is checked and converted first (names with
        strict=True, shapes always, numeric values), and on any error nothing changes and a RuntimeError lists
        each problem with its key. Values are written in place (PyTorch's param.copy_); assign=True gives each
        parameter new storage instead. Loading into tied parameters keeps them tied (one Parameter, several
        names). Returns (missing_keys, unexpected_keys)."""
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"{type(self).__name__}.load_state_dict: expected a dict of arrays, got "
                            f"{type(state_dict).__name__}")
        own = OrderedDict(self._state_items())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict.keys() if k not in own]
        errors, values = [], {}
        for k, t in own.items():
            if k not in state_dict:
                continue
            try:
                values[k] = _converted(state_dict[k], k, t, assign)
            except ValueError as e:
                errors.append(str(e))
        if strict and unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if strict and missing:
            errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        for k, v in values.items():  # nothing below can fail: every value is already a backend array of t's kind
            t = own[k]
            if not assign and B.is_writeable(t.array):
                # in place, as PyTorch's param.copy_(value): .data, views and shared memory see the new values, and
                # the version bump makes a pending backward that saved the old values raise instead of mixing them
                B.setitem(t.array, Ellipsis, v)
                bump_version(t)
            else:
                t.array = v
        return IncompatibleKeys(missing, unexpected)

    # ----- calling and printing
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self):
        """The constructor arguments that differ from their defaults, for __repr__."""
        return ""

    def __repr__(self):
        lines = []
        for name, m in self._modules.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _check_name(module, op, name):
    if not isinstance(name, str) or not name or "." in name:
        raise (TypeError if not isinstance(name, str) else ValueError)(
            f"{type(module).__name__}.{op}: name must be a non-empty string without '.', got {name!r}")


def _discard(name, *stores):
    for d in stores:
        d.pop(name, None)


def _converted(v, key, t, assign=False):
    """The value for `key` as a fresh backend array of t's shape and dtype (with assign, the value's own dtype, as
    PyTorch keeps the checkpoint's properties then), or ValueError naming key, expected and got. A copy, so later
    in-place updates (optimizers) never write into the caller's arrays."""
    expect = f"a numeric array of shape {t.shape} ({B.host_dtype(t.dtype)})"
    try:
        host = _host_array(v)
    except Exception as e:  # a foreign tensor that cannot become NumPy (e.g. torch bfloat16) is that key's problem
        raise ValueError(f'While copying the parameter named "{key}", expected {expect} from checkpoint but received '
                         f"a {type(v).__name__} that cannot be read as an array ({e})") from None
    if host is None:
        raise ValueError(f'While copying the parameter named "{key}", expected {expect} from checkpoint but received '
                         f"a {type(v).__name__}")
    if host.dtype.kind not in "biuf":
        raise ValueError(f'While copying the parameter named "{key}", expected {expect} from checkpoint but received '
                         f"an array of dtype {host.dtype}")
    if tuple(host.shape) != t.shape:
        raise ValueError(f"size mismatch for {key}: copying a param with shape {tuple(host.shape)} from checkpoint, "
                         f"the shape in current model is {t.shape}.")
    dtype = t.dtype
    if assign:
        if host.dtype.name not in ("bool", "int64", "float32", "float64"):
            raise ValueError(f'While assigning the parameter named "{key}": assign=True keeps the checkpoint\'s dtype, '
                             f"and {host.dtype} is not one of bool, int64, float32, float64")
        dtype = B.dtype_from_host(host.dtype)
        if isinstance(t, Parameter) and t.requires_grad and not B.is_floating(dtype):
            raise ValueError(f'While assigning the parameter named "{key}": a parameter that requires grad must be '
                             f"floating point, got {host.dtype}")
    try:
        return B.asarray(B.np.array(host, dtype=B.host_dtype(dtype), copy=True), dtype=dtype)
    except (ValueError, TypeError, OverflowError) as e:
        raise ValueError(f'While copying the parameter named "{key}", cannot convert {host.dtype} to '
                         f"{B.host_dtype(dtype)}: {e}") from None


def _host_array(v):
    """v as a NumPy array, or None when it is not array-like data."""
    if isinstance(v, Tensor):
        return v.numpy()
    if isinstance(v, (B.np.ndarray, B.np.generic, int, float, list)):
        return B.np.asarray(v)
    if B.is_array(v):
        return B.to_host(v)
    if hasattr(v, "detach") and hasattr(v, "numpy"):  # a torch tensor, converted on the user's behalf
        return v.detach().cpu().numpy()
    return None
