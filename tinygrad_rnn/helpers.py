"""Small utilities shared by every layer: environment switches read in one place.
Imports only the standard library."""

import os

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def getenv(name, default="", choices=None):
    """Read an environment switch, normalised to lower case; reject values outside `choices`."""
    value = os.environ.get(name, default).strip().lower()
    if choices is not None and value not in choices:
        raise ValueError(f"{name}={os.environ.get(name)!r} is not understood; expected one of {sorted(choices)}")
    return value


def getenv_bool(name):
    """A boolean switch such as TINYGRAD_RNN_FUSED=0; anything unrecognised is an error, not a guess."""
    return getenv(name, "", _TRUE | _FALSE) in _TRUE


def prod(shape):
    out = 1
    for s in shape:
        out *= s
    return out


def normalize_dim(dim, ndim, op, extra=0):
    """A dim as PyTorch accepts it: an int in [-n, n) with n = max(ndim + extra, 1) (a 0-d tensor takes 0 and -1;
    extra=1 for unsqueeze and stack, which may name the new last position). Anything else raises IndexError naming
    the op, the dim and the valid range; never wrapped modulo n into another dim."""
    n = max(ndim + extra, 1)
    if isinstance(dim, bool) or not isinstance(dim, int):
        if hasattr(dim, "__index__") and not isinstance(dim, bool):
            dim = dim.__index__()
        else:
            raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} {dim!r}")
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor of {ndim} dims "
                         f"(expected to be in range of [{-n}, {n - 1}])")
    return dim % n


def dim_alias(op, dim, axis, keepdim=False, keepdims=None):
    """PyTorch's dim=/keepdim= with NumPy's axis=/keepdims= accepted as aliases; naming one thing twice is an
    error rather than a silent choice. Returns (dim, keepdim)."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: got both dim= and axis= (axis is an alias of dim); pass one")
        dim = axis
    if keepdims is not None:
        if keepdim:
            raise TypeError(f"{op}: got both keepdim= and keepdims= (keepdims is an alias of keepdim); pass one")
        keepdim = keepdims
    return dim, bool(keepdim)


def normalize_dims(dims, ndim, op):
    """A dim or a tuple/list of dims for a reduction: None stays None (all dims), an int is normalized, a
    sequence becomes a tuple of normalized dims; a repeated dim raises ValueError."""
    if dims is None:
        return None
    if isinstance(dims, (tuple, list)):
        out = tuple(normalize_dim(d, ndim, op) for d in dims)
        if len(set(out)) != len(out):
            raise ValueError(f"{op}: dim {tuple(dims)} names a dim more than once")
        return out
    return normalize_dim(dims, ndim, op)


def broadcast_shape(a, b):
    """The shape two shapes broadcast to (NumPy's and PyTorch's rule); ValueError naming both when they cannot."""
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(pa, pb, strict=True):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"broadcast: shapes {tuple(a)} and {tuple(b)} cannot be broadcast together")
        out.append(x if y == 1 else y)  # not max(x, y): a size-1 dim broadcasts to an empty one too
    return tuple(out)
