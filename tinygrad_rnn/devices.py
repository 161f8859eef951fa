"""tr.device and the one device the active backend serves: "cpu" on NumPy, "cuda:0" on CuPy (TINYGRAD_RNN_GPU=1) and
on the strict stand-in (which plays a GPU in CI). The backend is chosen once, at import: asking for the active device
is a no-op, asking for another raises. Imports: backend."""

from . import backend as B

_TYPES = ("cpu", "cuda")
_FLAG_HINT = ("set TINYGRAD_RNN_GPU=1 before importing tinygrad_rnn (pip install 'tinygrad_rnn[gpu-cuda12]' or "
              "'[gpu-cuda13]' for CuPy)")


class device:  # noqa: N801  (PyTorch's name)
    """device("cpu"), device("cuda"), device("cuda:0"), device("cuda", 0); .type and .index, compares and prints as
    torch.device does (device("cuda") and device("cuda:0") differ, as in PyTorch)."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda:0', got {type!r}")
        if ":" in type:
            if index is not None:
                raise ValueError(f"device: {type!r} already names an index; do not pass index={index}")
            type, _, num = type.partition(":")
            if not num.isdigit():
                raise ValueError(f"device: invalid device index in {type}:{num!r}")
            index = int(num)
        if type not in _TYPES:
            raise ValueError(f"device: expected one of {_TYPES} device type, got {type!r}")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"device: index must be a non-negative int, got {index!r}")
        if type == "cpu" and index not in (None, 0):
            raise ValueError(f"device: the cpu device has no index {index}")
        self.type, self.index = type, index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"


device_type = device
ACTIVE = device("cpu") if B.NAME == "numpy" else device("cuda", 0)


def check(dev, op):
    """The device `dev` (a device, a string or a CUDA ordinal) if the active backend can serve it, else a
    RuntimeError naming the flag. "cpu" is served by every backend: on the GPU the values stay on the device and
    only host conversions (.numpy(), .tolist(), .item()) copy, so `x.cpu().numpy()` works on both."""
    d = device(dev)
    if d.type == "cuda":
        if ACTIVE.type != "cuda":
            raise RuntimeError(f"{op}: device {str(d)!r} needs the CuPy backend, but the active backend is {B.NAME}; "
                               f"{_FLAG_HINT}")
        if d.index not in (None, 0):
            raise RuntimeError(f"{op}: only device cuda:0 is used (one GPU, chosen by CUDA_VISIBLE_DEVICES), "
                               f"got {str(d)!r}")
    return d


def to_args(op, args, dtype=None, device=None):
    """The dtype asked for by PyTorch's to(...) forms: to(dtype), to(device), to(device, dtype), to(tensor) (its
    dtype and device) and the keywords; checks the device on the way (see check) and returns the dtype or None."""
    for a in args:
        if hasattr(a, "grad_fn") and hasattr(a, "device"):  # a Tensor (this module sits below tensor.py)
            dtype, device = a.dtype, a.device
        elif isinstance(a, (str, device_type)) or (isinstance(a, int) and not isinstance(a, bool)):
            device = a
        elif a is not None:
            dtype = a
    if device is not None:
        check(device, op)
    return dtype


def is_available():
    """True when the CuPy backend is active with a GPU (TINYGRAD_RNN_GPU=1); False on NumPy and on the stand-in."""
    return B.NAME == "cupy"


def device_count():
    return 1 if is_available() else 0
