"""Tensor's shape and selection methods, as a mixin of the Tensor class: flatten/permute/transpose/squeeze, split
and chunk, repeat/narrow, gather/scatter_add, where/masked_fill/masked_select, tril/triu. Every dim goes through
helpers.normalize_dim. Imports: helpers, backend, checks, autograd, ops."""

import math

from . import backend as B
from . import checks, ops
from .autograd import Function
from .helpers import broadcast_shape, dim_alias, normalize_dim

xp = B.xp


def _tensor():
    return Function.tensor_type  # the Tensor class (this module sits below tensor.py)


def _int_index(op, index):
    """An integer index Tensor, as gather/scatter_add take."""
    if not isinstance(index, _tensor()):
        index = _tensor()._as_tensor(index)
    if index.dtype not in (B.int64, B.int32):
        raise TypeError(f"{op}: expected an int64 index tensor, got dtype {index._dtype_name}")
    return index


def _check_range(op, index, dim, size):
    if index.numel():
        lo, hi = B.min_max(index.array)
        if lo < 0 or hi >= size:
            raise IndexError(f"{op}: index {lo if lo < 0 else hi} is out of bounds for dim {dim} with size {size}")


def _bool_mask(op, mask):
    arr = (mask if isinstance(mask, _tensor()) else _tensor()._as_tensor(mask)).array
    if arr.dtype != B.bool_:
        raise TypeError(f"{op}: expected a bool mask, got dtype {str(arr.dtype).split('.')[-1]}")
    return arr


class MovementMixin:
    __slots__ = ()

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            normalize_dim(start_dim, 0, "flatten"), normalize_dim(end_dim, 0, "flatten")
            return self.reshape(1)
        s, e = normalize_dim(start_dim, self.ndim, "flatten"), normalize_dim(end_dim, self.ndim, "flatten")
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} (shape {self.shape})")
        return self.reshape(self.shape[:s] + (math.prod(self.shape[s:e + 1]),) + self.shape[e + 1:])

    def permute(self, *args, dims=None):
        """x.permute(1, 0), x.permute((1, 0)) or x.permute(dims=(1, 0))."""
        if args and dims is not None:
            raise TypeError("permute: got dims both positionally and as dims=; pass one")
        dims = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args if dims is None else dims
        dims = tuple(normalize_dim(d, self.ndim, "permute") for d in dims)
        if sorted(dims) != list(range(self.ndim)):
            raise ValueError(f"permute: {dims} is not a permutation of the {self.ndim} dims of shape {self.shape}")
        return ops.Permute.apply(self, axes=dims) if self.ndim else self

    def transpose(self, dim0=-2, dim1=-1):
        d0, d1 = normalize_dim(dim0, self.ndim, "transpose"), normalize_dim(dim1, self.ndim, "transpose")
        dims = list(range(self.ndim))
        if self.ndim:
            dims[d0], dims[d1] = dims[d1], dims[d0]
        return self.permute(dims)

    swapaxes = transpose

    def t(self):
        """Transpose of a tensor of at most 2 dims (PyTorch's t())."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor of at most 2 dims, got shape {self.shape}; use transpose(d0, d1)")
        return self.transpose(0, 1) if self.ndim == 2 else self

    @property
    def T(self):
        return self.permute(tuple(reversed(range(self.ndim))))

    def unsqueeze(self, dim):
        dim = normalize_dim(dim, self.ndim, "unsqueeze", extra=1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim=None):
        """Drop dims of size 1: all of them, or those of `dim` (an int or a tuple) that have size 1."""
        if dim is None:
            return self.reshape(tuple(s for s in self.shape if s != 1))
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {normalize_dim(d, self.ndim, "squeeze") for d in dims}
        return self.reshape(tuple(s for i, s in enumerate(self.shape) if not (i in dims and s == 1)))

    def view_as(self, other):
        if not isinstance(other, _tensor()):
            raise TypeError(f"view_as: expected a Tensor, got {type(other).__name__}")
        return self.reshape(other.shape)

    def expand_as(self, other):
        if not isinstance(other, _tensor()):
            raise TypeError(f"expand_as: expected a Tensor, got {type(other).__name__}")
        return self.expand(other.shape)

    def contiguous(self):
        return self  # arrays here have no user-visible strides: every tensor already acts contiguous

    def repeat(self, *sizes):
        """Tile the tensor sizes[i] times along dim i (np.tile; PyTorch's repeat). len(sizes) >= ndim."""
        sizes = checks.sizes("repeat", sizes, "repeat counts")
        if len(sizes) < self.ndim:
            raise ValueError(f"repeat: got {len(sizes)} repeat counts for a tensor of {self.ndim} dims "
                             f"(shape {self.shape}); give at least one per dim")
        shape = (1,) * (len(sizes) - self.ndim) + self.shape
        x = self.reshape(tuple(v for s in shape for v in (1, s)))
        x = x.expand(tuple(v for r, s in zip(sizes, shape, strict=True) for v in (r, s)))
        return x.reshape(tuple(r * s for r, s in zip(sizes, shape, strict=True)))

    def narrow(self, dim, start, length):
        """The slice [start, start + length) along `dim` (start may be negative, as in PyTorch)."""
        dim = normalize_dim(dim, self.ndim, "narrow")
        n = self.shape[dim]
        start = start + n if -n <= start < 0 else start
        if not 0 <= start <= n or length < 0 or start + length > n:
            raise IndexError(f"narrow: start {start} and length {length} do not fit dim {dim} of size {n}")
        return self[(slice(None),) * dim + (slice(start, start + length),)]

    def select(self, dim, index):
        dim = normalize_dim(dim, self.ndim, "select")
        n = self.shape[dim]
        if not -n <= index < n:
            raise IndexError(f"select: index {index} is out of range for dim {dim} of size {n}")
        return self[(slice(None),) * dim + (index,)]

    def unbind(self, dim=0):
        if self.ndim == 0:
            raise ValueError("unbind: a 0-d tensor has no dim to unbind")
        dim = normalize_dim(dim, self.ndim, "unbind")
        return tuple(self.select(dim, i) for i in range(self.shape[dim]))

    def split(self, split_size_or_sections, dim=None, *, axis=None):
        """Pieces of `split_size` along `dim` (default 0; the last may be smaller), or of the sizes in a list."""
        dim, _ = dim_alias("split", dim, axis)
        dim = normalize_dim(0 if dim is None else dim, self.ndim, "split")
        n, size = self.shape[dim], split_size_or_sections
        if isinstance(size, (list, tuple)):
            sizes = list(checks.sizes("split", (size,), "split_size"))
        else:  # equal pieces, the last smaller; one empty piece of an empty dim
            size = checks.size("split", "split_size", size, 0 if n == 0 else 1)
            sizes = [min(size, n - i * size) for i in range(max(-(-n // size) if size else 0, 1))]
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n} (dim {dim} of shape {self.shape})")
        out, start = [], 0
        for s in sizes:
            out.append(self[(slice(None),) * dim + (slice(start, start + s),)])
            start += s
        return tuple(out)

    def chunk(self, chunks, dim=None, *, axis=None):
        dim, _ = dim_alias("chunk", dim, axis)
        dim = normalize_dim(0 if dim is None else dim, self.ndim, "chunk")
        return self.split(max(-(-self.shape[dim] // checks.size("chunk", "chunks", chunks, 1)), 1), dim)

    # ----- picking along a dim
    def gather(self, dim, index):
        """out[i][j][k] = self[i][index[i][j][k]][k] for dim=1 (torch.gather); index has self's number of dims and
        is no larger than self outside `dim`."""
        dim = normalize_dim(dim, self.ndim, "gather")
        index = _int_index("gather", index)
        if self.ndim == 0:
            return self.reshape(1).gather(0, index.reshape(1)).reshape(())
        if index.ndim != self.ndim or any(i > s for d, (i, s) in enumerate(zip(index.shape, self.shape, strict=True))
                                          if d != dim):
            raise ValueError(f"gather: index of shape {index.shape} does not fit input of shape {self.shape} "
                             f"outside dim {dim}")
        _check_range("gather", index, dim, self.shape[dim])
        return ops.Gather.apply(self, index=xp.astype(index.array, B.int64), dim=dim)

    def scatter_add(self, dim, index, src):
        """A copy of self with src[i][j][k] added at [i][index[i][j][k]][k] for dim=1 (repeats accumulate); only
        src's index-shaped corner is used, as in PyTorch."""
        dim = normalize_dim(dim, self.ndim, "scatter_add")
        index = _int_index("scatter_add", index)
        if not isinstance(src, _tensor()):
            src = self._const(src)
        if src.dtype != self.dtype:
            raise TypeError(f"scatter_add: src dtype {src._dtype_name} differs from self dtype {self._dtype_name}")
        if not (index.ndim == self.ndim == src.ndim) or any(
                i > s or (d != dim and i > t) for d, (i, s, t) in enumerate(zip(index.shape, src.shape, self.shape,
                                                                               strict=True))):
            raise ValueError(f"scatter_add: index of shape {index.shape} does not fit src of shape {src.shape} "
                             f"and self of shape {self.shape} (dim {dim})")
        _check_range("scatter_add", index, dim, self.shape[dim] if self.ndim else 1)
        if src.shape != index.shape:
            src = src[tuple(slice(0, n) for n in index.shape)]
        return ops.ScatterAdd.apply(self, src, index=xp.astype(index.array, B.int64), dim=dim)

    # ----- selecting by a condition
    def where(self, condition, other):
        """self where condition is true, else other (torch.where(condition, self, other)); all three broadcast."""
        cond = _bool_mask("where", condition)
        a, b = self._broadcasted(other)
        shape = broadcast_shape(broadcast_shape(a.shape, b.shape), tuple(cond.shape))
        a, b = a.expand(shape), b.expand(shape)
        return ops.Where.apply(a, b, cond=xp.broadcast_to(cond, shape))

    def masked_fill(self, mask, value):
        """A copy with `value` (a number or a 0-d tensor) where `mask` (bool, broadcastable to self) is true."""
        m = _bool_mask("masked_fill", mask)
        if broadcast_shape(tuple(m.shape), self.shape) != self.shape:
            raise ValueError(f"masked_fill: mask of shape {tuple(m.shape)} does not broadcast to {self.shape}")
        fill = value if isinstance(value, _tensor()) else self._const(value)
        if fill.ndim != 0:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape {fill.shape}")
        return fill.to(self.dtype).where(m, self)

    def masked_select(self, mask):
        """The elements where `mask` is true, as a 1-D tensor; self and mask broadcast together (PyTorch's rule)."""
        m = _bool_mask("masked_select", mask)
        shape = broadcast_shape(self.shape, tuple(m.shape))
        return ops.GetItem.apply(self.expand(shape), idx=xp.broadcast_to(m, shape))

    def _triangle(self, op, diagonal, keep):
        if self.ndim < 2:
            raise ValueError(f"{op}: expects a tensor of at least 2 dims, got shape {self.shape}")
        diagonal = checks.size(op, "diagonal", diagonal, minimum=None)
        r, c = self.shape[-2:]
        offset = B.reshape(B.arange(c, dtype=B.int64), (1, c)) - B.reshape(B.arange(r, dtype=B.int64), (r, 1))
        return self.where(keep(offset, diagonal), self._const(False if self.dtype == B.bool_ else 0))

    def tril(self, diagonal=0):
        """Zeros above the `diagonal`-th diagonal of the last two dims (0: main, > 0 above it, < 0 below)."""
        return self._triangle("tril", diagonal, lambda off, d: off <= d)

    def triu(self, diagonal=0):
        return self._triangle("triu", diagonal, lambda off, d: off >= d)
