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
