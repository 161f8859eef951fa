"""Tensor factories: zeros, ones, full, arange, and random draws (made on the host, so a seed gives the same
numbers on every backend). Imports: backend, tensor."""

from . import backend as B
from . import checks
from .tensor import Tensor, float32, int64


def _factory(arr, requires_grad):
    return Tensor(arr, requires_grad=requires_grad)


def zeros(*shape, dtype=float32, requires_grad=False):
    shape = checks.sizes("zeros", shape)
    return _factory(B.zeros(tuple(shape), dtype), requires_grad)


def ones(*shape, dtype=float32, requires_grad=False):
    shape = checks.sizes("ones", shape)
    return _factory(B.ones(tuple(shape), dtype), requires_grad)


def full(shape, value, dtype=float32, requires_grad=False):
    return _factory(B.full(checks.sizes("full", (shape,)), value, dtype), requires_grad)


def _like(op, t):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    return t


def zeros_like(t, dtype=None):
    _like("zeros_like", t)
    return zeros(t.shape, dtype=dtype or t.dtype)


def ones_like(t, dtype=None):
    _like("ones_like", t)
    return ones(t.shape, dtype=dtype or t.dtype)


def arange(n, dtype=int64):
    return Tensor._wrap(B.arange(n, dtype=dtype), False)


def randn(*shape, dtype=float32, requires_grad=False):
    """Standard normal samples drawn on the host (same numbers on every backend for a seed)."""
    shape = checks.sizes("randn", shape)
    host = B.host_rng().standard_normal(tuple(shape))
    return Tensor(B.asarray(host, dtype=dtype), requires_grad=requires_grad)


def rand(*shape, dtype=float32, requires_grad=False):
    shape = checks.sizes("rand", shape)
    host = B.host_rng().random(tuple(shape))
    return Tensor(B.asarray(host, dtype=dtype), requires_grad=requires_grad)


def uniform(shape, low, high, dtype=float32):
    """U(low, high) samples as a backend array (for parameter init)."""
    return B.asarray(B.host_rng().uniform(low, high, tuple(shape)), dtype=dtype)


def tensor(data, requires_grad=False, dtype=None):
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
