"""Tensor's reductions, softmax family, sorting and contractions (matmul, bmm), as a mixin of the Tensor class
(PyTorch's names: dim=/keepdim=, with NumPy's axis=/keepdims= as aliases). max/min/sort/topk over a dim return
named (values, indices) pairs. Imports: helpers, backend, autograd, ops, return_types."""

import math
import warnings

from . import backend as B
from . import ops, return_types
from .autograd import Function
from .helpers import broadcast_shape, dim_alias, normalize_dim, normalize_dims

xp = B.xp


def _wrap(arr):
    return Function.tensor_type._wrap(arr, False)  # the Tensor class (this module sits below tensor.py)


def _count(t, dims):
    """The number of elements a reduction over `dims` (None: all) combines."""
    return math.prod(t.shape[d] for d in ops._axes(t.ndim, dims)) if t.ndim else 1


def _nonempty(t, op, dims):
    """max/min/argmax/logsumexp have no identity: reducing over no elements is an error (PyTorch's too)."""
    if _count(t, dims) == 0:
        raise ValueError(f"{op}: cannot reduce over an empty dim of a tensor of shape {t.shape} (there is no identity "
                         "for it); give a dim of non-zero size")


class ReduceMixin:
    __slots__ = ()

    def _reduce_args(self, op, dim, axis, keepdim, keepdims):
        dim, keepdim = dim_alias(op, dim, axis, keepdim, keepdims)
        dims = normalize_dims(dim, self.ndim, op)
        # a 0-d tensor takes dim 0 or -1 and stays 0-d; dim=() reduces every dim, as in PyTorch
        return (None if self.ndim == 0 or dims == () else dims), keepdim

    def sum(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
        dims, keepdim = self._reduce_args("sum", dim, axis, keepdim, keepdims)
        return ops.Sum.apply(self._summable(dtype), axis=dims, keepdims=keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
        dims, keepdim = self._reduce_args("mean", dim, axis, keepdim, keepdims)
        x = self if dtype is None else self.to(dtype)
        if not B.is_floating(x.dtype):
            raise TypeError(f"mean: expected a floating point tensor, got dtype {x._dtype_name}; use .float() first")
        return x.sum(dims, keepdim) / float(_count(x, dims))  # over no elements: NaN, as PyTorch

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        """Variance over `dim` with Bessel's correction by default (correction=1, as PyTorch; unbiased=False or
        correction=0 for the population variance)."""
        dims, keepdim = self._reduce_args("var", dim, axis, keepdim, keepdims)
        if unbiased is not None and correction is not None:
            raise TypeError("var: got both unbiased= and correction=; pass one")
        correction = (1 if unbiased is None or unbiased else 0) if correction is None else correction
        dof = _count(self, dims) - correction
        if dof <= 0:
            warnings.warn(f"var(): degrees of freedom is <= 0 (correction {correction} over {dof + correction} "
                          "elements): the result is NaN, as in PyTorch", UserWarning, stacklevel=2)
        d = self - self.mean(dims, keepdim=True)
        return (d * d).sum(dims, keepdim) / float(max(dof, 0))

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        return self.var(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims).sqrt()

    def cumsum(self, dim, dtype=None):
        """Running sums along `dim` (integer and bool tensors sum in int64, as in PyTorch)."""
        dim, x = normalize_dim(dim, self.ndim, "cumsum"), self._summable(dtype)
        return ops.CumSum.apply(x, axis=dim) if x.ndim else x

    def _summable(self, dtype):
        """self in `dtype`, or, for integer and bool tensors, in int64: their sums are int64, as in PyTorch."""
        x = self if dtype is None else self.to(dtype)
        return x if B.is_floating(x.dtype) or x.dtype == B.int64 else x.to(B.int64)

    def amax(self, dim=(), keepdim=False, *, axis=None, keepdims=None):
        """Max over one or several dims (all by default); tied maxima share the gradient evenly (torch.amax)."""
        dims, keepdim = self._reduce_args("amax", None if dim == () else dim, axis, keepdim, keepdims)
        _nonempty(self, "amax", dims)
        return ops.Max.apply(self, axis=dims, keepdims=keepdim)

    def amin(self, dim=(), keepdim=False, *, axis=None, keepdims=None):
        _nonempty(self, "amin", self._reduce_args("amin", None if dim == () else dim, axis, keepdim, keepdims)[0])
        return -((-self).amax(dim, keepdim, axis=axis, keepdims=keepdims))

    def _pick(self, op, dim, axis, keepdim, keepdims, other):
        """max/min: no dim -> the 0-d extreme (amax); a dim -> (values, indices); a Tensor -> elementwise."""
        if isinstance(dim, Function.tensor_type) and other is None:
            dim, other = None, dim
        if other is not None:
            return self.maximum(other) if op == "max" else self.minimum(other)
        dim, keepdim = dim_alias(op, dim, axis, keepdim, keepdims)
        if not isinstance(dim, (tuple, list)):
            _nonempty(self, op, None if dim is None else normalize_dim(dim, self.ndim, op))
        if dim is None:
            if keepdim:
                raise TypeError(f"{op}: keepdim needs a dim")
            return self.amax() if op == "max" else self.amin()
        if isinstance(dim, (tuple, list)):
            raise TypeError(f"{op}: dim must be an int, got {dim!r}; use amax/amin to reduce several dims")
        idx = self.argmax(dim, keepdim=True) if op == "max" else self.argmin(dim, keepdim=True)
        values = self.gather(dim, idx)  # the gradient goes to the returned index only, as in PyTorch
        if not keepdim:
            values, idx = values.squeeze(dim), idx.squeeze(dim)
        return getattr(return_types, op)(values, idx)

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None, other=None):
        """x.max() -> 0-d max; x.max(dim) -> (values, indices), so `v, i = x.max(1)` works; x.max(y) -> maximum."""
        return self._pick("max", dim, axis, keepdim, keepdims, other)

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None, other=None):
        return self._pick("min", dim, axis, keepdim, keepdims, other)

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Index of the first maximum along `dim` (int64); over the flattened tensor when dim is None."""
        return self._arg("argmax", xp.argmax, dim, axis, keepdim, keepdims)

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return self._arg("argmin", xp.argmin, dim, axis, keepdim, keepdims)

    def _arg(self, op, fn, dim, axis, keepdim, keepdims):
        dim, keepdim = dim_alias(op, dim, axis, keepdim, keepdims)
        a = self.array
        _nonempty(self, op, None if dim is None else normalize_dim(dim, self.ndim, op))
        if dim is None:
            out = fn(B.reshape(a, (-1,)), axis=0)
            return _wrap(B.reshape(out, (1,) * self.ndim) if keepdim else out)
        dim = normalize_dim(dim, self.ndim, op)
        if self.ndim == 0:
            return _wrap(B.zeros((), B.int64))
        return _wrap(xp.astype(fn(a, axis=dim, keepdims=keepdim), B.int64))

    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """log(sum(exp(x))) over `dim` (required, as in PyTorch), stable for any magnitude: the max is subtracted
        first (as a constant, which leaves the gradient unchanged)."""
        dims, keepdim = self._reduce_args("logsumexp", dim, axis, keepdim, keepdims)
        if (dim if axis is None else axis) in (None, ()):
            raise TypeError("logsumexp: dim is required")
        _nonempty(self, "logsumexp", dims)
        x = self._floating()
        m = _wrap(xp.max(x.array, axis=dims, keepdims=True))
        out = (x - m).exp().sum(dims, keepdim=True).log() + m
        return out if keepdim else out.reshape(ops._reduced_shape(self.shape, dims))

    def _softmax_dim(self, op, dim, axis):
        dim, _ = dim_alias(op, dim, axis)
        if dim is None:
            raise TypeError(f"{op}: dim is required (PyTorch's implicit-dim guess is deprecated there, absent here)")
        return normalize_dim(dim, self.ndim, op)

    def log_softmax(self, dim=None, dtype=None, *, axis=None):
        """(x - m) - log(sum(exp(x - m))) with m = max(x), a constant. Not x - logsumexp(x): at |x| ~ 1e4 in float32
        the rounding of logsumexp (spacing ~1e-3) would swamp the small result."""
        dim = self._softmax_dim("log_softmax", dim, axis)
        x = self if dtype is None else self.to(dtype)
        z = x - _wrap(xp.max(x.array, axis=dim if x.ndim else None, keepdims=True))
        return z - z.exp().sum(dim, keepdim=True).log()

    def softmax(self, dim=None, dtype=None, *, axis=None):
        return self.log_softmax(self._softmax_dim("softmax", dim, axis), dtype).exp()

    # ----- sorting
    def argsort(self, dim=-1, descending=False, stable=False):
        """Indices that sort along `dim`; always stable (ties keep their order, in both directions)."""
        dim = normalize_dim(dim, self.ndim, "argsort")
        if self.ndim == 0:
            return _wrap(B.zeros((), B.int64))
        return _wrap(xp.astype(B.argsort(self.array, dim, descending), B.int64))

    def sort(self, dim=-1, descending=False, stable=False):
        """(values, indices) sorted along `dim`; the gradient of values flows back to the picked positions."""
        idx = self.argsort(dim, descending)
        return return_types.sort(self.gather(dim, idx) if self.ndim else self, idx)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """The k largest (smallest with largest=False) along `dim` as (values, indices), in sorted order."""
        dim = normalize_dim(dim, self.ndim, "topk")
        n = self.shape[dim] if self.ndim else 1
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= n:
            raise ValueError(f"topk: k={k!r} is out of range for dim {dim} of size {n} (shape {self.shape})")
        idx = self.argsort(dim, descending=largest)
        if self.ndim:
            idx = idx.narrow(dim, 0, k)
        return return_types.topk(self.gather(dim, idx) if self.ndim else self, idx)

    # ----- contractions
    def matmul(self, other):
        """self @ other with PyTorch's rules: 1-D operands are promoted and the added dim removed; batch dims
        broadcast."""
        a, b = self, self._const(other)
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        if a2.shape[-1] != b2.shape[-2]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: the first has "
                             f"{a2.shape[-1]} columns, the second {b2.shape[-2]} rows")
        broadcast_shape(a2.shape[:-2], b2.shape[:-2])
        if a2.dtype != b2.dtype:
            wide = B.promote(a2.dtype, b2.dtype)
            a2, b2 = a2.astype(wide), b2.astype(wide)
        out = ops.MatMul.apply(a2, b2)
        if a.ndim == 1:
            out = out.squeeze(-2)
        if b.ndim == 1:
            out = out.squeeze(-1)
        return out

    def bmm(self, mat2):
        """Batched matrix product of (B, n, m) and (B, m, p) -> (B, n, p); no broadcasting (that is matmul)."""
        if self.ndim != 3 or getattr(mat2, "ndim", 0) != 3 or self.shape[0] != mat2.shape[0] \
                or self.shape[2] != mat2.shape[1]:
            raise ValueError(f"bmm: expected (B, n, m) and (B, m, p) tensors, got shapes {self.shape} and "
                             f"{getattr(mat2, 'shape', type(mat2).__name__)}")
        return self.matmul(mat2)
