"""Tensor: a backend array plus the autograd bookkeeping; owns construction, broadcasting, dtype promotion and
devices, dunders and backward(). Reductions and movement come from the mixins in reductions.py and movement.py.
Imports: helpers, backend, checks, autograd, ops, devices, reductions, movement."""

import math

from . import autograd, checks, inplace, ops
from . import backend as B
from . import devices as D
from .convert import ConvertMixin, _check_dtype
from .helpers import broadcast_shape, normalize_dim
from .movement import MovementMixin
from .reductions import ReduceMixin

xp = B.xp
float32, float64, int64, int32, bool_ = B.float32, B.float64, B.int64, B.int32, B.bool_


def _host_dtype_of(np_dtype):
    """A NumPy array's dtype as ours: bool, int32 and both floats are kept; other ints -> int64, float16 ->
    float32 (we have no 16-bit types)."""
    kind, size = np_dtype.kind, np_dtype.itemsize
    if kind == "b":
        return bool_
    if kind in "iu":
        return int32 if (kind, size) == ("i", 4) else int64
    return float64 if size >= 8 else float32


def _to_array(data, dtype, python_dtype=None):
    """User data -> backend array. NumPy and backend arrays keep their dtype; Python data is inferred as
    torch.tensor does (floats -> float32, ints -> int64, bools -> bool) unless `python_dtype` is given (float32 for
    the Tensor class, as torch.Tensor)."""
    if dtype is not None:
        _check_dtype(dtype, "Tensor")
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, (B.np.ndarray, B.np.generic)):
        if data.dtype.kind not in "biuf":
            raise TypeError(f"Tensor: data must be numeric (bool, int or float), got a NumPy array of dtype "
                            f"{data.dtype}")
        dtype = dtype or _host_dtype_of(data.dtype)
    if B.is_array(data):
        arr = data
    elif B.is_foreign_array(data):
        raise TypeError(f"Tensor: got a {type(data).__module__}.{type(data).__name__} array, but the active backend "
                        f"is {B.NAME}; mixing arrays of different backends is not supported (TINYGRAD_RNN_GPU selects "
                        "one)")
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in data):
            data = [v.numpy() if isinstance(v, Tensor) else v for v in data]  # [t1, t2] of one-element tensors
        try:
            host = B.np.asarray(data)
        except (ValueError, TypeError) as e:
            checks.rectangular("Tensor", data, ValueError)
            raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__} data ({e})") from None
        if host.dtype.kind not in "biuf":
            raise TypeError(f"Tensor: data must be numeric (bool, int or float), got dtype {host.dtype} "
                            f"from {type(data).__name__}")
        if dtype is None:
            dtype = python_dtype or (float32 if host.dtype.kind == "f" else (bool_ if host.dtype.kind == "b"
                                                                             else int64))
        return B.asarray(host, dtype=dtype)
    if dtype is not None and arr.dtype != dtype:
        arr = xp.astype(arr, dtype)
    return arr


def _is_size(args):
    return bool(args) and all(isinstance(a, int) and not isinstance(a, bool) for a in args)


class Tensor(ConvertMixin, ReduceMixin, MovementMixin, inplace.InplaceMixin):
    """An n-dimensional array that records the ops made from it, for reverse-mode autodiff.

    Tensor(data, requires_grad=False, dtype=None, device=None): Python data becomes float32 like torch.Tensor
    (ints and bools too; use tr.tensor to infer int64/bool); a NumPy or backend array keeps its dtype (torch.Tensor
    would make it float32). Tensor(2, 3) is a float32 tensor of shape (2, 3) (zeros: PyTorch leaves it
    uninitialised). `.array` is the raw backend array (NumPy or CuPy); `.grad` a Tensor filled by backward()."""

    # _vc: the version counter shared with tensors over the same storage, _view: made by a view op (both set on need)
    __slots__ = ("array", "requires_grad", "grad", "grad_fn", "_vc", "_view", "__weakref__")
    __array_ufunc__ = None  # make numpy defer to our reflected operators: ndarray * Tensor -> Tensor

    def __init__(self, *args, requires_grad=False, dtype=None, device=None):
        if device is not None:
            D.check(device, "Tensor")
        if not args or _is_size(args):
            self.array = B.zeros(checks.sizes("Tensor", args) if args else (0,), dtype or float32)
        elif len(args) == 1:
            self.array = _to_array(args[0], dtype, python_dtype=float32)
        else:
            raise TypeError(f"Tensor: expected data or a size of ints, got {len(args)} arguments "
                            f"({', '.join(type(a).__name__ for a in args)})")
        if requires_grad and not B.is_floating(self.array.dtype):
            raise TypeError(f"Tensor: only floating point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self.grad_fn = None

    @staticmethod
    def _as_tensor(data, dtype=None):
        """data as a Tensor, inferred as tr.tensor does; a Tensor of the right dtype is returned as it is."""
        if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype):
            return data
        return Tensor._wrap(_to_array(data, dtype), False)

    @classmethod
    def _wrap(cls, arr, requires_grad):
        t = cls.__new__(cls)
        t.array, t.requires_grad, t.grad, t.grad_fn = arr, requires_grad, None, None
        return t

    # ----- facts
    @property
    def shape(self):
        s = self.array.shape
        return s if type(s) is tuple else tuple(s)

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def _dtype_name(self):
        return str(self.dtype).split(".")[-1]  # "float32" on every backend (array_api_strict prefixes its module)

    @property
    def device(self):
        """The active backend's device: cpu on NumPy, cuda:0 on CuPy and on the strict stand-in of a GPU."""
        return D.ACTIVE

    @property
    def is_cuda(self):
        return D.ACTIVE.type == "cuda"

    @property
    def is_leaf(self):
        return self.grad_fn is None

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[normalize_dim(dim, self.ndim, "size")] if self.ndim else 1

    def dim(self):
        return self.ndim

    def numel(self):
        return math.prod(self.shape)

    nelement = numel

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def numpy(self):
        """A host NumPy array (a copy from the device on the GPU backend). Fails on tensors that need grad
        only in PyTorch; here it always works and never records a graph."""
        return B.to_host(self.array)

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item(): only one-element tensors can be converted to Python scalars, "
                             f"got shape {self.shape}")
        return self.numpy().reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def __repr__(self):
        body = B.np.array2string(self.numpy(), precision=4, separator=", ", threshold=50, prefix="tensor(")
        extra = "" if self.dtype == float32 else f", dtype={self._dtype_name}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __hash__(self):
        return id(self)

    def _scalar(self, what):
        if self.numel() != 1:
            raise ValueError(f"{what}: only one-element tensors can be converted, got shape {self.shape}")
        return self.item()

    def __bool__(self):
        if self.numel() != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.item())

    def __int__(self):
        return int(self._scalar("int()"))

    def __float__(self):
        return float(self._scalar("float()"))

    def __index__(self):
        if B.is_floating(self.dtype) or self.dtype == bool_ or self.numel() != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index, got dtype "
                            f"{self._dtype_name} and shape {self.shape}")
        return int(self.item())
    # ----- autograd
    def backward(self, gradient=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's .grad. `gradient` is required unless self has one
        element. The graph's saved arrays are freed afterwards unless retain_graph=True."""
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad and has no grad_fn; "
                               "did you create the inputs with requires_grad=True, or run under no_grad()?")
        if gradient is None:
            if self.numel() != 1:
                raise RuntimeError(f"backward(): grad can be implicitly created only for scalar outputs; this tensor "
                                   f"has shape {self.shape}, so pass gradient= of that shape")
            g = B.ones(self.shape, self.dtype)
        else:
            g = _to_array(gradient, self.dtype)
            if tuple(g.shape) != self.shape:
                raise ValueError(f"backward(): gradient has shape {tuple(g.shape)}, expected {self.shape}")
        autograd.backward(self, g, retain_graph=retain_graph)

    def retain_grad(self):
        """Keep .grad on this non-leaf tensor after backward (leaves always keep theirs)."""
        if self.grad_fn is not None:
            import weakref

            self.grad_fn.retained = weakref.ref(self)
        return self

    def detach(self):
        """The same values (the same storage and version counter), cut from the graph: gradients stop here
        (truncated BPTT carries state this way)."""
        t = Tensor._wrap(self.array, False)
        t._vc = autograd.version_counter(self)
        return t

    def requires_grad_(self, flag=True):
        if flag and not B.is_floating(self.array.dtype):
            raise TypeError(f"only floating point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = flag
        return self

    # ----- broadcasting and binary ops
    def _const(self, x):
        if isinstance(x, Tensor):
            return x
        if isinstance(x, (int, float, bool)):
            # A Python number takes the tensor's float dtype (x * 2.0 stays float32); next to an integer tensor a
            # float is float32, as in PyTorch.
            dtype = self.dtype if B.is_floating(self.dtype) else (float32 if isinstance(x, float) else None)
            return Tensor._wrap(B.asarray(x, dtype=dtype), False)
        return Tensor._as_tensor(x, dtype=self.dtype if B.is_floating(self.dtype) else None)

    def _broadcasted(self, other, reverse=False):
        other = self._const(other)
        a, b = (other, self) if reverse else (self, other)
        if a.dtype != b.dtype:
            fa, fb = B.is_floating(a.dtype), B.is_floating(b.dtype)
            if fa and fb:
                wide = float64 if float64 in (a.dtype, b.dtype) else a.dtype
                a, b = a.astype(wide), b.astype(wide)
            elif fa or fb:  # int/bool with float -> the float dtype (the strict stand-in, like CuPy, will not guess)
                a, b = (a, b.astype(a.dtype)) if fa else (a.astype(b.dtype), b)
        if a.shape != b.shape:
            shape = broadcast_shape(a.shape, b.shape)
            a, b = a.expand(shape), b.expand(shape)
        return a, b

    def __add__(self, o):
        return ops.Add.apply(*self._broadcasted(o))

    def __radd__(self, o):
        return ops.Add.apply(*self._broadcasted(o, True))

    def __sub__(self, o):
        return ops.Sub.apply(*self._broadcasted(o))

    def __rsub__(self, o):
        return ops.Sub.apply(*self._broadcasted(o, True))

    def __mul__(self, o):
        return ops.Mul.apply(*self._broadcasted(o))

    def __rmul__(self, o):
        return ops.Mul.apply(*self._broadcasted(o, True))

    def __truediv__(self, o):
        return ops.Div.apply(*self._broadcasted(o))

    def __rtruediv__(self, o):
        return ops.Div.apply(*self._broadcasted(o, True))

    def __pow__(self, o):
        return ops.Pow.apply(*self._broadcasted(o))

    def __rpow__(self, o):
        return ops.Pow.apply(*self._broadcasted(o, True))

    def __neg__(self):
        return ops.Neg.apply(self)

    def __matmul__(self, o):
        return self.matmul(o)

    def __rmatmul__(self, o):
        return self._const(o).matmul(self)

    def maximum(self, o):
        return ops.Maximum.apply(*self._broadcasted(o))

    def minimum(self, o):
        return -((-self).maximum(-self._const(o)))

    def _compare(self, o, op):
        a, b = self._broadcasted(o)
        return Tensor._wrap(op(a.array, b.array), False)

    def __eq__(self, o):
        return self._compare(o, lambda a, b: a == b)

    def __ne__(self, o):
        return self._compare(o, lambda a, b: a != b)

    def __lt__(self, o):
        return self._compare(o, lambda a, b: a < b)

    def __le__(self, o):
        return self._compare(o, lambda a, b: a <= b)

    def __gt__(self, o):
        return self._compare(o, lambda a, b: a > b)

    def __ge__(self, o):
        return self._compare(o, lambda a, b: a >= b)

    # ----- unary
    def exp(self):
        return ops.Exp.apply(self)

    def log(self):
        return ops.Log.apply(self)

    def tanh(self):
        return ops.Tanh.apply(self)

    def sigmoid(self):
        return ops.Sigmoid.apply(self)

    def relu(self):
        return ops.Relu.apply(self)

    def abs(self):
        return ops.Abs.apply(self)

    def sqrt(self):
        return self**0.5

    def clip(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must be given")
        checks.reals("clip", **{k: v for k, v in (("min", min), ("max", max)) if v is not None})
        return ops.Clip.apply(self, lo=min, hi=max)

    clamp = clip

    # ----- movement
    def reshape(self, *shape):
        shape = checks.reshape("reshape", shape, self.shape)
        if shape == self.shape:
            return self
        return ops.Reshape.apply(self, shape=shape)

    view = reshape

    def expand(self, *shape):
        shape = checks.expand(shape, self.shape)
        if shape == self.shape:
            return self
        if not self.requires_grad or not autograd.is_grad_enabled():
            return Tensor._wrap(xp.broadcast_to(self.array, shape), False)
        return ops.Expand.apply(self, shape=shape)

    def __getitem__(self, idx):
        return ops.GetItem.apply(self, idx=checks.index(self.shape, _norm_index(idx)))

    # x[idx] = v; the other in-place methods, .data and _version are in inplace.InplaceMixin
    def __setitem__(self, idx, value):
        value = value if isinstance(value, Tensor) else Tensor._as_tensor(value, self.dtype)
        inplace.update(self, "__setitem__", lambda old: value, idx=checks.index(self.shape, _norm_index(idx)))


# ----- free functions
def _norm_index(idx):
    if isinstance(idx, tuple):
        return tuple(_norm_index(i) for i in idx)
    if isinstance(idx, Tensor):
        return idx.array
    if isinstance(idx, (list, B.np.ndarray)):
        checks.rectangular("index", idx, IndexError)
        host = B.np.asarray(idx)  # an empty list indexes nothing: int64, not NumPy's float64
        return B.asarray(host, dtype=int64 if host.dtype.kind in "iu" or host.size == 0 else None)
    return idx


autograd.Function.tensor_type = Tensor
