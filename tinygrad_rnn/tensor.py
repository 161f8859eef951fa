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
    torch.tensor does (floats -> the default float dtype, float32 unless tr.set_default_dtype changed it; ints ->
    int64, bools -> bool) unless `python_dtype` is given (the default float dtype for the Tensor class, as
    torch.Tensor)."""
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
        if isinstance(data, (list, tuple)) and _holds_tensor(data):
            data = _host_nested(data)  # [t1, t2] or [[t1, t2]] of one-element tensors, as PyTorch accepts
        try:
            host = B.np.asarray(data)
        except (ValueError, TypeError) as e:
            checks.rectangular("Tensor", data, ValueError)
            raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__} data ({e})") from None
        if host.dtype.kind not in "biuf":
            raise TypeError(f"Tensor: data must be numeric (bool, int or float), got dtype {host.dtype} "
                            f"from {type(data).__name__}")
        if dtype is None:
            dtype = python_dtype or (B.default_float() if host.dtype.kind == "f" else (bool_ if host.dtype.kind == "b"
                                                                                        else int64))
        return B.asarray(host, dtype=dtype)
    if dtype is not None and arr.dtype != dtype:
        arr = xp.astype(arr, dtype)
    return arr


def _holds_tensor(data):
    """True when nested lists/tuples hold a Tensor anywhere (torch.LongTensor([[t0, t1]]) of 0-d tensors)."""
    return any(isinstance(v, Tensor) or (isinstance(v, (list, tuple)) and _holds_tensor(v)) for v in data)


def _host_nested(data):
    if isinstance(data, Tensor):
        return data.numpy()
    return [_host_nested(v) for v in data] if isinstance(data, (list, tuple)) else data


def _is_size(args):
    return bool(args) and all(isinstance(a, int) and not isinstance(a, bool) for a in args)


class Tensor(ConvertMixin, ReduceMixin, MovementMixin, inplace.InplaceMixin):
    """An n-dimensional array that records the ops made from it, for reverse-mode autodiff.

    Tensor(data, requires_grad=False, dtype=None, device=None): Python data becomes float32 (the default float
    dtype, see tr.set_default_dtype) like torch.Tensor (ints and bools too; use tr.tensor to infer int64/bool); a
    NumPy or backend array keeps its dtype (torch.Tensor would make it float32). Tensor(2, 3) is a float32 tensor of
    shape (2, 3) (zeros: PyTorch leaves it uninitialised). `.array` is the raw backend array (NumPy or CuPy); `.grad`
    a Tensor filled by backward()."""

    # _vc: the version counter shared with tensors over the same storage, _view: made by a view op (both set on need)
    __slots__ = ("array", "requires_grad", "grad", "grad_fn", "_vc", "_view", "__weakref__")
    __array_ufunc__ = None  # make numpy defer to our reflected operators: ndarray * Tensor -> Tensor

    def __init__(self, *args, requires_grad=False, dtype=None, device=None):
        if device is not None:
            D.check(device, "Tensor")
        if not args or _is_size(args):
            self.array = B.zeros(checks.sizes("Tensor", args) if args else (0,), dtype or B.default_float())
        elif len(args) == 1:
            self.array = _to_array(args[0], dtype, python_dtype=B.default_float())
        else:
            raise TypeError(f"Tensor: expected data or a size of ints, got {len(args)} arguments "
                            f"({', '.join(type(a).__name__ for a in args)})")
        if requires_grad and not B.is_floating(self.array.dtype):
            raise TypeError(f"Tensor: only floating point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self.grad_fn = None

    @staticmethod
    def _as_tensor(data, dtype=None, copy=False):
        """data as a Tensor, inferred as tr.tensor does; without copy, a Tensor of the right dtype is returned as it
        is (and an array wrapped as it is); with copy, the result never shares the caller's memory."""
        if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype) and not copy:
            return data
        src = data.array if isinstance(data, Tensor) else data
        arr = _to_array(data, dtype)
        return Tensor._wrap(B.copy(arr) if copy and arr is src else arr, False)

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
        return B.dtype_name(self.dtype)

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
        if dim is None:
            return self.shape
        if self.ndim == 0:
            raise IndexError(f"size: dim {dim} given, but a 0-d tensor has no dims")
        return self.shape[normalize_dim(dim, self.ndim, "size")]

    def dim(self):
        return self.ndim

    def numel(self):
        return math.prod(self.shape)

    nelement = numel

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __hash__(self):
        return id(self)  # __eq__ is elementwise, so identity hashing must be restored by hand

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

    def clone(self, *, memory_format=None):
        """A copy in new memory that stays in the graph (gradients flow back to self), as torch's clone(); tensors
        here have no user-visible memory formats, so memory_format takes only None."""
        if memory_format is not None:
            raise TypeError(f"clone: memory_format is not supported (tensors have no user-visible strides here), "
                            f"got {memory_format!r}; drop the argument")
        return ops.Clone.apply(self)

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
            # float takes the default float dtype, as in PyTorch.
            dtype = self.dtype if B.is_floating(self.dtype) else (B.default_float() if isinstance(x, float) else None)
            if dtype is None and self.dtype != bool_:
                dtype = self.dtype  # an int next to an int32 tensor keeps int32, as in PyTorch
            return Tensor._wrap(B.asarray(x, dtype=dtype), False)
        return Tensor._as_tensor(x, dtype=self.dtype if B.is_floating(self.dtype) else None)

    def _broadcasted(self, other, reverse=False):
        other = self._const(other)
        a, b = (other, self) if reverse else (self, other)
        if a.dtype != b.dtype:  # made explicit: the strict stand-in, like CuPy, will not guess
            wide = B.promote(a.dtype, b.dtype)
            a, b = a.astype(wide), b.astype(wide)
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
        return ops.Div.apply(*_true_div(*self._broadcasted(o)))

    def __rtruediv__(self, o):
        return ops.Div.apply(*_true_div(*self._broadcasted(o, True)))


    def __pow__(self, o):
        return ops.Pow.apply(*self._broadcasted(o))

    def __rpow__(self, o):
        return ops.Pow.apply(*self._broadcasted(o, True))

    def __neg__(self):
        return ops.Neg.apply(self)

    # PyTorch's method spellings of the arithmetic operators
    div, mul, pow, neg = __truediv__, __mul__, __pow__, __neg__  # noqa: A003

    def add(self, other, *, alpha=1):
        return self + (other if alpha == 1 else self._const(other) * alpha)

    def sub(self, other, *, alpha=1):
        return self - (other if alpha == 1 else self._const(other) * alpha)

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

    # PyTorch's method spellings of the comparisons (pred.eq(target).sum())
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    # ----- & | ^ ~ on bool tensors (logical: masks) and integer tensors (bitwise), without gradient, as in PyTorch
    def _bitwise(self, o, op, name, reverse=False):
        o = self._const(o)
        for t in (self, o):
            if B.is_floating(t.dtype):
                raise TypeError(f"{name}: expected bool or integer tensors, got dtype {t._dtype_name} (as in PyTorch; "
                                "compare first, e.g. (x > 0) & mask)")
        a, b = self._broadcasted(o, reverse)
        return Tensor._wrap(op(a.array, b.array), False)

    def __and__(self, o):
        return self._bitwise(o, lambda a, b: a & b, "&")

    def __rand__(self, o):
        return self._bitwise(o, lambda a, b: a & b, "&", reverse=True)

    def __or__(self, o):
        return self._bitwise(o, lambda a, b: a | b, "|")

    def __ror__(self, o):
        return self._bitwise(o, lambda a, b: a | b, "|", reverse=True)

    def __xor__(self, o):
        return self._bitwise(o, lambda a, b: a ^ b, "^")

    def __rxor__(self, o):
        return self._bitwise(o, lambda a, b: a ^ b, "^", reverse=True)

    def __invert__(self):
        if B.is_floating(self.dtype):
            raise TypeError(f"~: expected a bool or integer tensor, got dtype {self._dtype_name} (as in PyTorch)")
        return Tensor._wrap(~self.array, False)

    # ----- unary
    def _floating(self):
        """self, or a float copy (the default float dtype) of an integer or bool tensor: PyTorch's floating ops
        promote them so."""
        return self if B.is_floating(self.dtype) else self.astype(B.default_float())

    def exp(self):
        return ops.Exp.apply(self._floating())

    def log(self):
        return ops.Log.apply(self._floating())

    def tanh(self):
        return ops.Tanh.apply(self._floating())

    def sigmoid(self):
        return ops.Sigmoid.apply(self._floating())

    def relu(self):
        return ops.Relu.apply(self)

    def abs(self):
        return ops.Abs.apply(self)

    def sqrt(self):
        return self**0.5

    def clip(self, min=None, max=None):
        """clamp/clip to [min, max] (numbers; either may be None). The gradient passes where min <= x <= max."""
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must be given")
        checks.reals("clip", **{k: v for k, v in (("min", min), ("max", max)) if v is not None})
        # float bounds on an integer tensor give float32, int bounds on a bool tensor int64, as in PyTorch
        x = self._floating() if isinstance(min, float) or isinstance(max, float) else \
            self.astype(int64) if self.dtype == bool_ else self
        return ops.Clip.apply(x, lo=min, hi=max)

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
def _true_div(a, b):
    """Division of integer or bool tensors is true division in the default float dtype (float32 unless
    tr.set_default_dtype changed it), as PyTorch's (NumPy would give float64)."""
    return (a, b) if B.is_floating(a.dtype) else (a.astype(B.default_float()), b.astype(B.default_float()))


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
