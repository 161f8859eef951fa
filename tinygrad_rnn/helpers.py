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
    """A dim as PyTorch accepts it: an int in [-n, n) with n = max(ndim, 1) + extra (extra=1 for unsqueeze, which
    may name the new last position). Anything else raises IndexError naming the op, the dim and the valid range;
    never wrapped modulo n into another dim."""
    n = max(ndim, 1) + extra
    if isinstance(dim, bool) or not isinstance(dim, int):
        if hasattr(dim, "__index__") and not isinstance(dim, bool):
            dim = dim.__index__()
        else:
            raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} {dim!r}")
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor of {ndim} dims "
                         f"(expected to be in range of [{-n}, {n - 1}])")
    return dim % n
