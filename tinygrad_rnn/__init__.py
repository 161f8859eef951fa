"""tinygrad_rnn: a small, clear autograd framework for recurrent networks (NumPy, or CuPy with TINYGRAD_RNN_GPU=1).

    import tinygrad_rnn as tr
    x = tr.Tensor([[1.0, 2.0]], requires_grad=True)
    (x * x).sum().backward(); x.grad   # tensor([[2., 4.]])
"""

from . import backend
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
from .creation import arange, full, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from .gradcheck import gradcheck
from .serialization import load, save
from .tensor import Tensor, bool_, cat, concat, float32, float64, int64, matmul, split, stack, where

__version__ = "0.1.0"


def manual_seed(seed):
    """Seed every random draw (weights, dropout masks, randn): drawn on the host, so both backends agree."""
    backend.manual_seed(seed)


__all__ = ["Tensor", "tensor", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "use_primitives",
           "detect_anomaly", "record_grad_norms", "tag", "gradcheck", "manual_seed", "float32", "float64", "int64",
           "bool_", "cat", "concat", "stack", "split", "where", "matmul", "zeros", "ones", "full", "zeros_like",
           "ones_like", "arange", "randn", "rand", "backend"]
__all__ += ["save", "load", "nn", "optim"]

from . import nn, optim  # noqa: E402  (after Tensor exists: torch-style tr.nn / tr.optim access)
