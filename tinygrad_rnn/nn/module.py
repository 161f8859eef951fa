"""nn.Module: parameters and submodules registered by attribute assignment, state dicts, train/eval.
Imports: backend, devices, tensor, nn.parameter."""

from collections import OrderedDict, namedtuple

from .. import backend as B
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
        if value is None and name in self._parameters:
            self._parameters[name] = None  # an optional parameter stays registered as absent
            return
        for d in (self._parameters, self._buffers, self._modules):
            d.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

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
        if param is None:
            self.__dict__.pop(name, None)
            self._parameters[name] = None
        else:
            setattr(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """A non-learnable tensor that is part of the state (saved in state_dict when persistent)."""
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if not persistent:
            object.__setattr__(self, "_non_persistent", self.__dict__.get("_non_persistent", set()) | {name})

    def add_module(self, name, module):
        setattr(self, name, module)

    # ----- traversal
    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return (m for _, m in self._modules.items())

    def named_modules(self, prefix=""):
        """(qualified name, module) for self and every submodule, depth first, each module once."""
        seen, stack = set(), [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            children = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items() if c is not None]
            stack.extend(reversed(children))

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, Parameter) pairs in registration order; a parameter shared by two modules appears once."""
        seen = set()
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mname, m in mods:
            for k, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mname}.{k}" if mname else k), p

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix=""):
        for mname, m in self.named_modules(prefix):
            for k, b in m._buffers.items():
                if b is not None:
                    yield (f"{mname}.{k}" if mname else k), b

    def apply(self, fn):
        for m in list(self.modules())[::-1]:
            fn(m)
        return self

    # ----- modes and dtypes
    def train(self, mode=True):
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
    def _state_items(self):
        for name, p in self.named_parameters():
            yield name, p
        for mname, m in self.named_modules():
            skip = m.__dict__.get("_non_persistent", set())
            for k, b in m._buffers.items():
                if b is not None and k not in skip:
                    yield (f"{mname}.{k}" if mname else k), b

    def state_dict(self):
        """OrderedDict of name -> host NumPy array (a copy), whatever the backend."""
        return OrderedDict((k, B.np.array(B.to_host(t.array), copy=True)) for k, t in self._state_items())

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays (NumPy arrays, Tensors, or anything with .numpy()) into the parameters and buffers,
        cast to each parameter's dtype. Shape mismatches always raise; with strict=True, missing and
        unexpected keys raise too. Returns (missing_keys, unexpected_keys)."""
        own = OrderedDict(self._state_items())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        values = {}
        for k, t in own.items():
            if k not in state_dict:
                continue
            v = _host_array(state_dict[k], k)
            if tuple(v.shape) != t.shape:
                errors.append(f"size mismatch for {k}: copying a param with shape {tuple(v.shape)} from checkpoint, "
                              f"the shape in current model is {t.shape}.")
            values[k] = v
        if strict and unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if strict and missing:
            errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        for k, v in values.items():
            t = own[k]  # copied, so later in-place updates (optimizers) never write into the caller's arrays
            t.array = B.asarray(B.np.array(v, dtype=B.host_dtype(t.dtype), copy=True), dtype=t.dtype)
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


def _host_array(v, key):
    if isinstance(v, Tensor):
        return v.numpy()
    if isinstance(v, B.np.ndarray) or isinstance(v, (int, float, list)):
        return B.np.asarray(v)
    if B.is_array(v):
        return B.to_host(v)
    if hasattr(v, "detach") and hasattr(v, "numpy"):  # a torch tensor, converted on the user's behalf
        return v.detach().cpu().numpy()
    raise TypeError(f"load_state_dict: value for {key!r} is a {type(v).__name__}, expected an array")
