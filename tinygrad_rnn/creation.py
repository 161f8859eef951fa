"""Tensor factories with PyTorch's signatures (size as f(2, 3) or f((2, 3)), dtype=, device=, requires_grad=):
tensor, zeros, ones, full, empty, arange, the *_like forms, random draws (made on the host, so a seed gives the same
numbers on every backend), and the legacy typed constructors (FloatTensor, LongTensor, ...). Imports: backend,
devices, tensor."""

from . import backend as B
from .devices import check as _check_device
from .tensor import Tensor, bool_, float32, float64, int32, int64


def _shape(size):
    size = size[0] if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    return tuple(int(s) for s in size)


def _factory(arr, requires_grad, device=None):
    if device is not None:
        _check_device(device, "factory")
    t = Tensor._wrap(arr, False)
    return t.requires_grad_(True) if requires_grad else t


def tensor(data, *, dtype=None, device=None, requires_grad=False):
    """A tensor with dtype inferred as torch.tensor does: Python floats -> float32, ints -> int64, bools -> bool;
    NumPy arrays keep their dtype. Always a copy (of arrays too, as torch.tensor), cut from any graph."""
    return _factory(Tensor._as_tensor(data, dtype, copy=True).array, requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """data as a tensor without a copy where it already is one of that dtype (torch.as_tensor)."""
    if device is not None:
        _check_device(device, "as_tensor")
    return Tensor._as_tensor(data, dtype)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _factory(B.zeros(_shape(size), dtype or float32), requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _factory(B.ones(_shape(size), dtype or float32), requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """zeros: PyTorch leaves the memory uninitialised, we never do."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def _scalar_dtype(value):
    """torch.full's inference from the fill value: bool -> bool, int -> int64, float -> float32."""
    if isinstance(value, bool):
        return bool_
    return int64 if isinstance(value, int) else float32


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    return _factory(B.full(_shape((size,)), fill_value, dtype or _scalar_dtype(fill_value)), requires_grad, device)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    return zeros(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    return ones(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    return zeros_like(input, dtype, device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """arange(end) or arange(start, end, step): int64 when all three are ints, else float32 (PyTorch's rule)."""
    if dtype is None:
        ints = all(isinstance(v, int) for v in (start, end, step) if v is not None)
        dtype = int64 if ints else float32
    if end is None:
        start, end = 0, start
    return _factory(B.arange(start, end, step, dtype=dtype), requires_grad, device)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Standard normal samples drawn on the host (same numbers on every backend for a seed)."""
    host = B.host_rng().standard_normal(_shape(size))
    return _factory(B.asarray(host, dtype=dtype or float32), requires_grad, device)


def rand(*size, dtype=None, device=None, requires_grad=False):
    host = B.host_rng().random(_shape(size))
    return _factory(B.asarray(host, dtype=dtype or float32), requires_grad, device)


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False):
    """Integers in [low, high) (randint(high, size) starts at 0), int64 by default."""
    if size is None:
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint: size is required, e.g. randint(0, 10, (3,))")
    host = B.host_rng().integers(low, high, _shape((size,)))
    return _factory(B.asarray(host, dtype=dtype or int64), requires_grad, device)


def uniform(shape, low, high, dtype=float32):
    """U(low, high) samples as a backend array (for parameter init)."""
    return B.asarray(B.host_rng().uniform(low, high, tuple(shape)), dtype=dtype)


# ----- the legacy typed constructors: FloatTensor([1, 2]) or FloatTensor(2, 3). Functions, not classes, so
# isinstance(x, tr.FloatTensor) does not work (use x.dtype == tr.float32).
def FloatTensor(*args):  # noqa: N802
    return Tensor(*args, dtype=float32)


def DoubleTensor(*args):  # noqa: N802
    return Tensor(*args, dtype=float64)


def LongTensor(*args):  # noqa: N802
    return Tensor(*args, dtype=int64)


def IntTensor(*args):  # noqa: N802
    return Tensor(*args, dtype=int32)


def BoolTensor(*args):  # noqa: N802
    return Tensor(*args, dtype=bool_)

