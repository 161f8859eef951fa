"""Argument checks at the public boundary: sizes (layer constructors, factories), shapes for reshape/view/expand and
indices for __getitem__. Each raises the framework's own error naming the op, the argument, what was expected and
what was given, before NumPy or Python can raise one without context. Imports: helpers, backend."""

import numbers
import operator

from . import backend as B
from .helpers import prod


def _int_like(value):
    return not isinstance(value, bool) and hasattr(value, "__index__")


def _index(op, arg, value):
    try:  # a Tensor has __index__, but only a one-element integer one converts
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{op}: {arg} must be ints, got a {type(value).__name__} that is not one integer") from None


def size(op, arg, value, minimum=0):
    """A size argument: an int (or anything with __index__, not a bool) >= minimum (None: any int), as an int."""
    if not _int_like(value):
        raise TypeError(f"{op}: {arg} should be of type int, got: {type(value).__name__} {value!r}")
    value = _index(op, arg, value)
    if minimum is not None and value < minimum:
        need = {0: "non-negative", 1: "greater than zero"}.get(minimum, f"at least {minimum}")
        raise ValueError(f"{op}: {arg} must be {need}, got {value}")
    return value


def reals(op, **values):
    """Real-number arguments (ints, floats, NumPy scalars; not bools, strings or None), else a TypeError naming them."""
    for arg, v in values.items():
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{op}: {arg} must be a number, got {type(v).__name__} {v!r}"[:200])
    return tuple(values.values())


def probability(op, arg, p):
    """A probability in [0, 1] (dropout rates): a real number, not a bool."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) and not hasattr(p, "__float__"):
        raise TypeError(f"{op}: {arg} should be a number between 0 and 1, got {type(p).__name__} {p!r}")
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"{op}: {arg} has to be between 0 and 1, got {p}")
    return float(p)


def shape_args(op, shape, arg="sizes"):
    """The sizes of f(2, 3) or f((2, 3)) as a tuple; each must be int-like (checked by the callers' rules)."""
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)
    for s in shape:
        if not _int_like(s):
            raise TypeError(f"{op}: {arg} must be ints, got {type(s).__name__} {s!r} in {shape}")
    return tuple(_index(op, arg, s) for s in shape)


def sizes(op, shape, arg="sizes"):
    """A new tensor's shape (zeros, ones, randn, LayerNorm's normalized_shape, ...): non-negative ints."""
    shape = shape_args(op, shape, arg)
    if any(s < 0 for s in shape):
        raise ValueError(f"{op}: {arg} must be non-negative, got {shape}")
    return shape


def reshape(op, shape, old):
    """`shape` for reshape/view of a tensor of shape `old`, with at most one -1 inferred (PyTorch's rules)."""
    shape, n = shape_args(op, shape), prod(old)
    if -1 not in shape and prod(shape) == n and min(shape, default=0) >= 0:
        return shape
    bad = [s for s in shape if s < -1]
    if bad:
        raise ValueError(f"{op}: invalid size {bad[0]} in shape {shape}; sizes must be >= 0, or -1 to infer one")
    if shape.count(-1) > 1:
        raise ValueError(f"{op}: only one size can be inferred (-1), got shape {shape}")
    known = prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0:
            raise ValueError(f"{op}: cannot infer the -1 in shape {shape} for a tensor of {n} elements (shape {old}): "
                             "the other sizes multiply to 0")
        if n % known == 0:
            return tuple(n // known if s == -1 else s for s in shape)
    raise ValueError(f"{op}: shape {shape} is invalid for a tensor of {n} elements (shape {old})")


def expand(shape, old):
    """The target of expand: at least as many dims as `old`, -1 keeps a size, and only size-1 dims grow."""
    shape = shape_args("expand", shape)
    lead = len(shape) - len(old)
    if lead < 0:
        raise ValueError(f"expand: the number of sizes given ({len(shape)}) must be at least the tensor's number "
                         f"of dims ({len(old)}); got shape {shape} for a tensor of shape {old}")
    out = []
    for i, s in enumerate(shape):
        cur = old[i - lead] if i >= lead else None
        if s == -1 and cur is not None:
            s = cur
        if s < 0:
            where = "a new leading dim" if cur is None else f"dim {i}"
            raise ValueError(f"expand: invalid size {s} at {where} in shape {shape} (tensor of shape {old})")
        if cur is not None and cur != s and cur != 1:
            raise ValueError(f"expand: the size {s} at dim {i} must match the existing size {cur} (only dims of "
                             f"size 1 can grow); target shape {shape}, tensor of shape {old}")
        out.append(s)
    return tuple(out)


def ragged(data, dim=0):
    """Why nested lists/tuples are not rectangular ('expected a sequence of length 2 at dim 1, got 1'), or None."""
    if not isinstance(data, (list, tuple)) or not data:
        return None
    seqs = [isinstance(d, (list, tuple)) for d in data]
    if any(seqs) and not all(seqs):
        return f"ragged nested sequence: a mix of sequences and scalars at dim {dim + 1}"
    if not any(seqs):
        return None
    n = len(data[0])
    for d in data:
        if len(d) != n:
            return f"ragged nested sequence: expected a sequence of length {n} at dim {dim + 1}, got {len(d)}"
    return next((r for r in (ragged(d, dim + 1) for d in data) if r), None)


def rectangular(op, data, error):
    """Raise `error` naming `op` when nested lists/tuples are ragged (NumPy's own message names neither)."""
    why = ragged(data)
    if why:
        raise error(f"{op}: {why}") from None


# ----- indexing
def _kind(i):
    """How an index part is used: 'int', 'slice', 'new' (None), 'ellipsis', 'mask' (bool array), 'ints' (array)."""
    if i is None:
        return "new"
    if i is Ellipsis:
        return "ellipsis"
    if isinstance(i, slice):
        return "slice"
    if isinstance(i, bool):
        return "new"  # x[True] adds a dim of size 1 (x[False] one of size 0), as in NumPy and PyTorch
    if isinstance(i, int):
        return "int"
    if B.is_array(i):
        kind = B.host_dtype(i.dtype).kind
        if kind == "b":
            return "mask"
        if kind in "iu":
            return "int" if i.ndim == 0 else "ints"
        raise TypeError(f"index: index tensors and lists must hold integers or bools, got dtype "
                        f"{B.dtype_name(i.dtype)}")
    if hasattr(i, "__index__"):
        return "int"
    raise TypeError(f"index: only integers, slices, None, ..., and integer or bool tensors are valid indices, "
                    f"got {type(i).__name__} {i!r}")


def index(shape, idx):
    """Check a normalised index (ints, slices, None, ..., backend int/bool arrays) against `shape`; returns idx.
    Errors name the index, the dim and its size."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    kinds = [_kind(i) for i in parts]
    used = sum(0 if k in ("new", "ellipsis") else parts[j].ndim if k == "mask" else 1 for j, k in enumerate(kinds))
    if kinds.count("ellipsis") > 1:
        raise IndexError("index: an index can only have a single ellipsis (...)")
    if used > len(shape):
        raise IndexError(f"index: too many indices for a tensor of {len(shape)} dims (shape {shape}): {used} given")
    dim = 0
    for i, k in zip(parts, kinds, strict=True):
        if k == "ellipsis":
            dim += len(shape) - used
        elif k == "slice":
            for part in ("start", "stop", "step"):
                v = getattr(i, part)
                if v is not None and not _int_like(v) and not (B.is_array(v) and v.ndim == 0):
                    raise TypeError(f"index: slice {part} must be an int or None, got {type(v).__name__} {v!r}")
            if i.step is not None and operator.index(i.step) == 0:
                raise ValueError("index: slice step cannot be zero")
            dim += 1
        elif k == "int":
            v = int(B.to_host(i)) if B.is_array(i) else operator.index(i)
            if not -shape[dim] <= v < shape[dim]:
                raise IndexError(f"index: index {v} is out of range for dim {dim} of size {shape[dim]} "
                                 f"(expected {-shape[dim]} <= index < {shape[dim]})")
            dim += 1
        elif k == "ints":
            if i.size:
                lo, hi = B.min_max(i)
                bad = lo if lo < -shape[dim] else hi
                if lo < -shape[dim] or hi >= shape[dim]:
                    raise IndexError(f"index: index {bad} (in an index tensor) is out of range for dim {dim} of size "
                                     f"{shape[dim]} (expected {-shape[dim]} <= index < {shape[dim]})")
            dim += 1
        elif k == "mask":
            want = tuple(shape[dim:dim + i.ndim])
            if tuple(i.shape) != want:
                dims = f"dim {dim}" if i.ndim == 1 else f"dims {dim}..{dim + i.ndim - 1}"
                raise IndexError(f"index: the bool mask of shape {tuple(i.shape)} does not match the indexed {dims} "
                                 f"of size {want} (tensor of shape {shape})")
            dim += i.ndim
    return idx
