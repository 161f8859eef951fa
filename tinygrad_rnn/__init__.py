"""tinygrad_rnn: a small, clear autograd framework for recurrent networks (NumPy, or CuPy with TINYGRAD_RNN_GPU=1).

    import tinygrad_rnn as tr
    x = tr.Tensor([[1.0, 2.0]], requires_grad=True)
    (x * x).sum().backward(); x.grad   # tensor([[2., 4.]])
"""

from . import backend, checks, cuda, functions, return_types
from .autograd import (
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    record_grad_norms,
    set_grad_enabled,
    tag,
    use_primitives,
)
from .creation import (
    BoolTensor,
    DoubleTensor,
    FloatTensor,
    IntTensor,
    LongTensor,
    arange,
    as_tensor,
    empty,
    empty_like,
    from_numpy,
    full,
    full_like,
    is_tensor,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .devices import device
from .functions import *  # noqa: F403  (the torch.* free functions, listed in functions.__all__)
from .gradcheck import gradcheck
from .serialization import load, save
from .tensor import Tensor, bool_, float32, float64, int32, int64

# PyTorch's dtype names (tr.float is float32, tr.int is int32, as in torch)
float = float32  # noqa: A001
double = float64
long = int64
int = int32  # noqa: A001
bool = bool_  # noqa: A001

__version__ = "0.1.0"


def manual_seed(seed):
    """Seed every random draw (weights, dropout masks, randn): drawn on the host, so both backends agree."""
    backend.manual_seed(checks.size("manual_seed", "seed", seed))


def set_default_dtype(d):
    """The float dtype made when none is given (Python floats, tr.Tensor, factories, layer weights), as
    torch.set_default_dtype: tr.float32 (the default) or tr.float64. Process-wide, like PyTorch's."""
    if d not in backend.FLOAT_DTYPES:
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the default type: expected "
                        f"tr.float32 or tr.float64, got {d!r}")
    backend.set_default_float(d)


def get_default_dtype():
    """The float dtype made when none is given: tr.float32 unless set_default_dtype changed it."""
    return backend.default_float()


__all__ = ["Tensor", "tensor", "as_tensor", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "use_primitives", "detect_anomaly",
           "record_grad_norms", "tag", "gradcheck", "manual_seed", "float32", "float64", "int64", "int32", "bool_",
           "float", "double", "long", "int", "bool", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
           "full_like", "empty_like", "arange", "randn", "rand", "randint", "FloatTensor", "DoubleTensor",
           "LongTensor", "IntTensor", "BoolTensor", "device", "cuda", "return_types", "backend"]
__all__ += ["set_default_dtype", "get_default_dtype", "from_numpy", "is_tensor"]
__all__ += functions.__all__
__all__ += ["save", "load", "nn", "optim"]

from . import nn, optim  # noqa: E402  (after Tensor exists: torch-style tr.nn / tr.optim access)


def __getattr__(name):  # a name we lack: an AttributeError that names the absent PyTorch feature (absent.py)
    from .absent import missing as _missing

    raise _missing(__name__, name)
