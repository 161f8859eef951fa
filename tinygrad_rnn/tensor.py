"""Tensor: a backend array plus the autograd bookkeeping; owns broadcasting, dtype promotion, dunders and
backward(). Imports: backend, autograd, ops."""

import math
import numbers

from . import autograd, checks, ops
from . import backend as B

xp = B.xp
float32, float64, int64, bool_ = B.float32, B.float64, B.int64, B.bool_


def _to_array(data, dtype):
    """User data -> backend array. Python floats default to float32; NumPy and backend arrays keep their dtype
    (as torch.tensor does), on every backend; integers and bools keep their kind."""
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, (B.np.ndarray, B.np.generic)):
        if data.dtype.kind not in "biuf":
            raise TypeError(f"Tensor: data must be numeric (bool, int or float), got a NumPy array of dtype "
                            f"{data.dtype}")
        if dtype is None:
            kind, wide = data.dtype.kind, data.dtype.itemsize >= 8
            dtype = bool_ if kind == "b" else int64 if kind in "iu" else float64 if wide else float32
    if B.is_array(data):
        arr = data
    elif B.is_foreign_array(data):
        raise TypeError(f"Tensor: got a {type(data).__module__}.{type(data).__name__} array, but the active backend "
                        f"is {B.NAME}; mixing arrays of different backends is not supported (TINYGRAD_RNN_GPU selects "
                        "one)")
    else:
        try:
            host = B.np.asarray(data)
        except (ValueError, TypeError) as e:
            ragged = checks.ragged(data)
            if ragged:
                raise ValueError(f"Tensor: {ragged}") from None
            raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__} data ({e})") from None
        if host.dtype.kind not in "biuf":
            raise TypeError(f"Tensor: data must be numeric (bool, int or float), got dtype {host.dtype} "
                            f"from {type(data).__name__}")
        if dtype is None:
            dtype = float32 if host.dtype.kind == "f" else (bool_ if host.dtype.kind == "b" else int64)
        return B.asarray(host, dtype=dtype)
    if dtype is not None and arr.dtype != dtype:
        arr = xp.astype(arr, dtype)
    return arr


class Tensor:
    """An n-dimensional array that records the ops made from it, for reverse-mode autodiff.

    Tensor(data, requires_grad=False, dtype=None): Python float data becomes float32 unless dtype says otherwise
    (tr.float64 for gradient checks), a NumPy array keeps its float dtype; integer data becomes int64 (class
    indices, token ids).
    `.array` is the raw backend array (NumPy or CuPy); `.grad` a Tensor filled by backward()."""

    __slots__ = ("array", "requires_grad", "grad", "grad_fn", "__weakref__")
    __array_ufunc__ = None  # make numpy defer to our reflected operators: ndarray * Tensor -> Tensor

    def __init__(self, data, requires_grad=False, dtype=None):
        self.array = _to_array(data, dtype)
        if requires_grad and not B.is_floating(self.array.dtype):
            raise TypeError(f"Tensor: only floating point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self.grad_fn = None

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
    def is_leaf(self):
        return self.grad_fn is None

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self):
        return math.prod(self.shape)

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
        extra = "" if self.dtype == float32 else f", dtype={B.dtype_name(self.dtype)}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __hash__(self):
        return id(self)

    def __bool__(self):
        if self.numel() != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.item())

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
        """The same values, cut from the graph: gradients stop here (truncated BPTT carries state this way)."""
        return Tensor._wrap(self.array, False)

    def requires_grad_(self, flag=True):
        if flag and not B.is_floating(self.array.dtype):
            raise TypeError(f"only floating point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = flag
        return self

    # ----- dtype
    def astype(self, dtype):
        if self.dtype == dtype:
            return self
        if not B.is_floating(dtype) and self.requires_grad:
            return Tensor._wrap(xp.astype(self.array, dtype), False)
        return ops.Cast.apply(self, dtype=dtype)

    to = astype

    def float(self):
        return self.astype(float32)

    def double(self):
        return self.astype(float64)

    def long(self):
        return Tensor._wrap(xp.astype(self.array, int64), False)

    # ----- broadcasting and binary ops
    def _const(self, x):
        if isinstance(x, Tensor):
            return x
        if isinstance(x, (int, float, bool)):
            # A Python number takes the tensor's float dtype (x * 2.0 stays float32); next to an integer tensor a
            # float is float32, as in PyTorch.
            dtype = self.dtype if B.is_floating(self.dtype) else (float32 if isinstance(x, float) else None)
            return Tensor._wrap(B.asarray(x, dtype=dtype), False)
        return Tensor(x, dtype=self.dtype if B.is_floating(self.dtype) else None)

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
        return matmul(self, o)

    def __rmatmul__(self, o):
        return matmul(self._const(o), self)

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
        for name, v in (("min", min), ("max", max)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Real)):
                raise TypeError(f"clip: {name} must be a number or None, got {type(v).__name__}")
        return ops.Clip.apply(self, lo=min, hi=max)

    clamp = clip

    # ----- reductions
    def sum(self, axis=None, keepdims=False):
        return ops.Sum.apply(self, axis=_norm_axis(axis), keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        axis = _norm_axis(axis)
        n = math.prod(self.shape[a] for a in ops._axes(self.ndim, axis)) if self.ndim else 1
        return self.sum(axis, keepdims) * (1.0 / max(n, 1))

    def var(self, axis=None, keepdims=False, correction=0):
        axis = _norm_axis(axis)
        n = math.prod(self.shape[a] for a in ops._axes(self.ndim, axis)) if self.ndim else 1
        d = self - self.mean(axis, keepdims=True)
        return (d * d).sum(axis, keepdims) * (1.0 / max(n - correction, 1))

    def max(self, axis=None, keepdims=False):
        return ops.Max.apply(self, axis=_norm_axis(axis), keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return -((-self).max(axis, keepdims))

    def argmax(self, axis=None, keepdims=False):
        return Tensor._wrap(xp.argmax(self.array, axis=axis, keepdims=keepdims), False)

    def logsumexp(self, axis=-1, keepdims=False):
        """log(sum(exp(x))) over `axis`, stable for any magnitude: the max is subtracted first (as a constant,
        which leaves the gradient unchanged)."""
        axis = _norm_axis(axis)
        m = Tensor._wrap(xp.max(self.array, axis=axis, keepdims=True), False)
        out = (self - m).exp().sum(axis, keepdims=True).log() + m
        return out if keepdims else out.reshape(ops._reduced_shape(self.shape, axis))

    def log_softmax(self, axis=-1):
        """(x - m) - log(sum(exp(x - m))) with m = max(x), a constant. Not x - logsumexp(x): at |x| ~ 1e4 in float32
        the rounding of logsumexp (spacing ~1e-3) would swamp the small result."""
        z = self - Tensor._wrap(xp.max(self.array, axis=axis, keepdims=True), False)
        return z - z.exp().sum(axis, keepdims=True).log()

    def softmax(self, axis=-1):
        return self.log_softmax(axis).exp()

    # ----- movement
    def reshape(self, *shape):
        shape = checks.reshape("reshape", shape, self.shape)
        if shape == self.shape:
            return self
        return ops.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s, e = start_dim % self.ndim, end_dim % self.ndim
        return self.reshape(self.shape[:s] + (math.prod(self.shape[s:e + 1]),) + self.shape[e + 1:])

    def permute(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        axes = tuple(a % self.ndim for a in axes)
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError(f"permute: {axes} is not a permutation of the {self.ndim} dims of shape {self.shape}")
        return ops.Permute.apply(self, axes=axes)

    def transpose(self, dim0=-2, dim1=-1):
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return self.permute(axes)

    @property
    def T(self):
        return self.permute(tuple(reversed(range(self.ndim))))

    def unsqueeze(self, dim):
        dim = dim % (self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape(tuple(s for s in self.shape if s != 1))
        dim = dim % self.ndim
        if self.shape[dim] != 1:
            return self
        return self.reshape(self.shape[:dim] + self.shape[dim + 1:])

    def expand(self, *shape):
        shape = checks.expand(shape, self.shape)
        if shape == self.shape:
            return self
        if not self.requires_grad or not autograd.is_grad_enabled():
            return Tensor._wrap(xp.broadcast_to(self.array, shape), False)
        return ops.Expand.apply(self, shape=shape)

    def __getitem__(self, idx):
        return ops.GetItem.apply(self, idx=checks.index(self.shape, _norm_index(idx)))

    def split(self, split_size, axis=0):
        return split(self, split_size, axis)

    def chunk(self, chunks, axis=0):
        return split(self, -(-self.shape[axis] // checks.size("chunk", "chunks", chunks, 1)), axis)


# ----- free functions
def broadcast_shape(a, b):
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(pa, pb, strict=True):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"broadcast: shapes {tuple(a)} and {tuple(b)} cannot be broadcast together")
        out.append(max(x, y))
    return tuple(out)


def _norm_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _norm_index(idx):
    if isinstance(idx, tuple):
        return tuple(_norm_index(i) for i in idx)
    if isinstance(idx, Tensor):
        return idx.array
    if isinstance(idx, (list, B.np.ndarray)):
        ragged = checks.ragged(idx)
        if ragged:
            raise IndexError(f"index: {ragged}")
        host = B.np.asarray(idx)  # an empty list indexes nothing: int64, not NumPy's float64
        return B.asarray(host, dtype=int64 if host.dtype.kind in "iu" or host.size == 0 else None)
    return idx


def matmul(a, b):
    """a @ b with PyTorch's rules: 1-D operands are promoted and the added dim removed; batch dims broadcast."""
    a = a if isinstance(a, Tensor) else Tensor(a)
    b = a._const(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: the first has {a2.shape[-1]} "
                         f"columns, the second {b2.shape[-2]} rows")
    broadcast_shape(a2.shape[:-2], b2.shape[:-2])
    if a2.dtype != b2.dtype:
        a2, b2 = a2.astype(float64), b2.astype(float64)
    out = ops.MatMul.apply(a2, b2)
    if a.ndim == 1:
        out = out.squeeze(-2)
    if b.ndim == 1:
        out = out.squeeze(-1)
    return out


def _sequence(op, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")


def cat(tensors, axis=0):
    """Join tensors along an existing axis (torch.cat)."""
    _sequence("cat", tensors)
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    ref = tensors[0].shape
    axis = axis % len(ref)
    for t in tensors:
        if len(t.shape) != len(ref) or any(s != r for i, (s, r) in enumerate(zip(t.shape, ref, strict=True))
                                           if i != axis):
            raise ValueError(f"cat: shapes {ref} and {t.shape} differ outside axis {axis}")
    if len(tensors) == 1:
        return tensors[0]
    return ops.Concat.apply(*tensors, axis=axis)


concat = cat


def stack(tensors, axis=0):
    """Join tensors of equal shape along a new axis."""
    _sequence("stack", tensors)
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    axis = axis % (tensors[0].ndim + 1)
    return cat([t.unsqueeze(axis) for t in tensors], axis)


def split(t, split_size, axis=0):
    """Pieces of `split_size` along `axis` (the last may be smaller), or of the sizes in a list."""
    n = t.shape[axis]
    if isinstance(split_size, (list, tuple)):
        sizes = list(checks.sizes("split", (split_size,), "split_size"))
    else:  # equal pieces, the last smaller; one empty piece of an empty dim
        size = checks.size("split", "split_size", split_size, 0 if n == 0 else 1)
        sizes = [min(size, n - i * size) for i in range(max(-(-n // size) if size else 0, 1))]
    if sum(sizes) != n:
        raise ValueError(f"split: sizes {sizes} do not add up to {n} (axis {axis} of shape {t.shape})")
    out, start = [], 0
    axis = axis % t.ndim
    for s in sizes:
        out.append(t[(slice(None),) * axis + (slice(start, start + s),)])
        start += s
    return tuple(out)


def where(cond, a, b):
    """Elementwise `a` where cond is true, else `b`; broadcasts all three."""
    cond = cond.array if isinstance(cond, Tensor) else B.asarray(cond)
    a = a if isinstance(a, Tensor) else (b._const(a) if isinstance(b, Tensor) else Tensor(a))
    a, b = a._broadcasted(b)
    shape = broadcast_shape(a.shape, tuple(cond.shape))
    a, b = a.expand(shape), b.expand(shape)
    cond = xp.broadcast_to(xp.astype(cond, bool_), shape)
    return ops.Where.apply(a, b, cond=cond)


autograd.Function.tensor_type = Tensor
