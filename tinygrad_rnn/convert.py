"""Tensor's conversions, as a mixin of the Tensor class: to the host and Python numbers (numpy, item, tolist, repr,
int/float/bool/index), between dtypes and devices (to, cpu, cuda, float, long, type_as, ...), and the new_*
factories. Imports: backend, checks, autograd, ops, devices."""

from . import backend as B
from . import checks, ops
from . import devices as D
from .autograd import Function

xp = B.xp
float32, float64, int64, int32, bool_ = B.float32, B.float64, B.int64, B.int32, B.bool_


def _tensor():
    return Function.tensor_type  # the Tensor class (this module sits below tensor.py)


DTYPES = (float32, float64, int64, int32, bool_)
_LEGACY_NAMES = ("FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor")


def _check_dtype(dtype, op):
    if dtype not in DTYPES:
        raise TypeError(f"{op}: expected one of tr.float32, tr.float64, tr.int64, tr.int32, tr.bool, got {dtype!r}")
    return dtype


def _size(size, op):
    """f(2, 3) and f((2, 3)) alike, as PyTorch's size arguments: non-negative ints, else an error naming `op`."""
    return checks.sizes(op, size)


def _new(t, device, requires_grad):
    """A freshly made tensor after a factory's device= and requires_grad= checks."""
    if device is not None:
        D.check(device, "factory")
    return t.requires_grad_(True) if requires_grad else t


class ConvertMixin:
    __slots__ = ()

    # ----- to the host and to Python numbers
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
        extra = "" if self.dtype == B.default_float() else f", dtype={self._dtype_name}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def _scalar(self, what):
        if self.numel() != 1:
            raise ValueError(f"{what}: only one-element tensors can be converted, got shape {self.shape}")
        return self.item()

    def __bool__(self):
        if self.numel() != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.item())

    def __int__(self):
        return int(self._scalar("int()"))

    def __float__(self):
        return float(self._scalar("float()"))

    def __index__(self):
        if B.is_floating(self.dtype) or self.dtype == bool_ or self.numel() != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index, got dtype "
                            f"{self._dtype_name} and shape {self.shape}")
        return int(self.item())

    def astype(self, dtype):
        if self.dtype == dtype:
            return self
        _check_dtype(dtype, "astype")
        if not B.is_floating(dtype) and self.requires_grad:
            return _tensor()._wrap(xp.astype(self.array, dtype), False)
        return ops.Cast.apply(self, dtype=dtype)

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        """to(dtype), to(device), to(device, dtype), to(other) (its dtype and device), and the keyword forms. The
        device must be one the active backend serves (see tr.device); moving to it changes nothing."""
        dtype = D.to_args("to", args, dtype, device)
        if copy:
            raise TypeError("to: copy=True is not supported; the result shares nothing that needs a copy")
        return self if dtype is None else self.astype(_check_dtype(dtype, "to"))

    def cpu(self):
        """Self on every backend: on the GPU the values stay on the device, and .numpy()/.tolist()/.item() copy them
        to the host, so `x.cpu().numpy()` works on both (x.device still says cuda)."""
        return self

    def cuda(self, device=None, non_blocking=False):
        D.check("cuda" if device is None else device, "cuda")
        return self

    def type(self, dtype=None):
        """x.type() -> 'torch.FloatTensor' and so on; x.type(tr.long), x.type(tr.LongTensor) or
        x.type("torch.LongTensor") converts."""
        if dtype is None:
            return "torch." + _LEGACY_NAMES[DTYPES.index(self.dtype)]
        name = getattr(dtype, "__name__", None)  # tr.LongTensor and friends are functions named after the type
        if isinstance(dtype, str):  # x.type("torch.LongTensor")
            name = dtype.rpartition(".")[2]
        return self.astype(_check_dtype(DTYPES[_LEGACY_NAMES.index(name)] if name in _LEGACY_NAMES else dtype, "type"))

    def type_as(self, other):
        if not isinstance(other, _tensor()):
            raise TypeError(f"type_as: expected a Tensor, got {type(other).__name__}")
        return self.astype(other.dtype)

    def float(self):
        return self.astype(float32)

    def double(self):
        return self.astype(float64)

    def long(self):
        return self.astype(int64)

    def int(self):
        return self.astype(int32)

    def bool(self):
        return self.astype(bool_)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return _new(_tensor()._as_tensor(data, dtype or self.dtype, copy=True), device, requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        shape = _size(size, "new_zeros")
        return _new(_tensor()._wrap(B.zeros(shape, dtype or self.dtype), False), device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        shape = _size(size, "new_ones")
        return _new(_tensor()._wrap(B.ones(shape, dtype or self.dtype), False), device, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return _new(_tensor()._wrap(B.full(_size((size,), "new_full"), fill_value, dtype or self.dtype), False), device,
                    requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)
