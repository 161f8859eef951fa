"""Tensor factories with PyTorch's signatures (size as f(2, 3) or f((2, 3)), dtype=, device=, requires_grad=):
tensor, zeros, ones, full, empty, arange, the *_like forms, random draws (made on the host, so a seed gives the same
numbers on every backend), and the legacy typed constructors (FloatTensor, LongTensor, ...). Imports: backend,
checks, convert, devices, tensor."""

import numbers

from . import backend as B
from . import checks
from .convert import _check_dtype
from .devices import check as _check_device
from .tensor import Tensor, bool_, float32, float64, int32, int64


def _shape(size, op):
    """f(2, 3) or f((2, 3)) -> (2, 3): non-negative ints, else an error naming `op`."""
    return checks.sizes(op, size)


def _dtype(dtype, op):
    return None if dtype is None else _check_dtype(dtype, op)


def _like(op, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    return input


def _factory(arr, requires_grad, device=None):
    if device is not None:
        _check_device(device, "factory")
    t = Tensor._wrap(arr, False)
    return t.requires_grad_(True) if requires_grad else t


def tensor(data, *, dtype=None, device=None, requires_grad=False):
    """A tensor with dtype inferred as torch.tensor does: Python floats -> float32, ints -> int64, bools -> bool;
    NumPy arrays keep their dtype. Always a copy (of arrays too, as torch.tensor), cut from any graph."""
    return _factory(Tensor._as_tensor(data, dtype, copy=True).array, requires_grad, device)


def from_numpy(ndarray):
    """A tensor over the NumPy array's memory (torch.from_numpy): writes to either show in the other. With
    TINYGRAD_RNN_GPU=1 the data must move to the device, so the tensor is a copy there."""
    if not isinstance(ndarray, B.np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__})")
    return Tensor(ndarray)


def is_tensor(obj):
    """True for a tinygrad_rnn Tensor (Parameters included), as torch.is_tensor."""
    return isinstance(obj, Tensor)


def as_tensor(data, dtype=None, device=None):
    """data as a tensor without a copy where it already is one of that dtype (torch.as_tensor)."""
    if device is not None:
        _check_device(device, "as_tensor")
    return Tensor._as_tensor(data, dtype)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    shape, dtype = _shape(size, "zeros"), _dtype(dtype, "zeros") or B.default_float()
    return _factory(B.zeros(shape, dtype), requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad=False):
    shape, dtype = _shape(size, "ones"), _dtype(dtype, "ones") or B.default_float()
    return _factory(B.ones(shape, dtype), requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """zeros: PyTorch leaves the memory uninitialised, we never do."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def _scalar_dtype(value):
    """torch.full's inference from the fill value: bool -> bool, int -> int64, float -> the default float dtype."""
    if isinstance(value, bool):
        return bool_
    return int64 if isinstance(value, int) else B.default_float()


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    shape = _shape((size,), "full")
    if not isinstance(fill_value, numbers.Number):
        raise TypeError(f"full: fill_value must be a number or a bool, got {type(fill_value).__name__}")
    dtype = _dtype(dtype, "full") or _scalar_dtype(fill_value)
    return _factory(B.full(shape, fill_value, dtype), requires_grad, device)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    _like("zeros_like", input)
    return zeros(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    _like("ones_like", input)
    return ones(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    return zeros_like(input, dtype, device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    _like("full_like", input)
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """arange(end) or arange(start, end, step): int64 when all three are ints, else the default float dtype
    (PyTorch's rule)."""
    if _dtype(dtype, "arange") is None:
        ints = all(isinstance(v, int) for v in (start, end, step) if v is not None)
        dtype = int64 if ints else B.default_float()
    if end is None:
        start, end = 0, start
    checks.reals("arange", start=start, end=end, step=step)
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:  # PyTorch refuses what NumPy would return empty
        raise ValueError(f"arange: upper bound and lower bound inconsistent with step sign (start={start}, "
                         f"end={end}, step={step})")
    return _factory(B.arange(start, end, step, dtype=dtype), requires_grad, device)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Standard normal samples drawn on the host (same numbers on every backend for a seed)."""
    host = B.host_rng().standard_normal(_shape(size, "randn"))
    return _factory(B.asarray(host, dtype=_dtype(dtype, "randn") or B.default_float()), requires_grad, device)


def rand(*size, dtype=None, device=None, requires_grad=False):
    host = B.host_rng().random(_shape(size, "rand"))
    return _factory(B.asarray(host, dtype=_dtype(dtype, "rand") or B.default_float()), requires_grad, device)


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False):
    """Integers in [low, high) (randint(high, size) starts at 0), int64 by default."""
    if size is None:
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint: size is required, e.g. randint(0, 10, (3,))")
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not hasattr(v, "__index__") or isinstance(v, Tensor) and v.numel() != 1:
            raise TypeError(f"randint: {name} must be an int, got {type(v).__name__}")
    if not low < high:
        raise ValueError(f"randint: expected low < high, got low={low} and high={high}")
    host = B.host_rng().integers(low, high, _shape((size,), "randint"))
    return _factory(B.asarray(host, dtype=_dtype(dtype, "randint") or int64), requires_grad, device)


def uniform(shape, low, high, dtype=None):
    """U(low, high) samples as a backend array (for parameter init)."""
    return B.asarray(B.host_rng().uniform(low, high, tuple(shape)), dtype=dtype or B.default_float())


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

