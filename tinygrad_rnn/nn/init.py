"""nn.init: PyTorch's parameter initialisers (same names, arguments, fan rules and gains). Each fills its tensor in
place under no_grad (so it works on Parameters) and returns it; numbers are drawn on the host (tr.manual_seed).
Imports: backend, autograd, tensor.

    nn.init.xavier_uniform_(layer.weight); nn.init.zeros_(layer.bias); nn.init.orthogonal_(rnn.weight_hh_l0)
"""

import math

from .. import backend as B
from ..autograd import no_grad
from ..tensor import Tensor

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity: 1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for relu,
    sqrt(2 / (1 + slope^2)) for leaky_relu (slope `param`, default 0.01), 3/4 for selu."""
    if nonlinearity in _LINEAR:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) = (size(1), size(0)) times the receptive field (the product of the dims after the second)."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions, got shape "
                         f"{tensor.shape}")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _tensor(name, tensor):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(tensor).__name__}")
    return tensor


def _fill(tensor, host):
    with no_grad():
        tensor.copy_(Tensor._wrap(B.asarray(host, dtype=tensor.dtype), False))
    return tensor


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with U(a, b) (Tensor.uniform_ under no_grad)."""
    with no_grad():
        return _tensor("uniform_", tensor).uniform_(a, b)


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with N(mean, std^2) (Tensor.normal_ under no_grad)."""
    with no_grad():
        return _tensor("normal_", tensor).normal_(mean, std)


def constant_(tensor, val):
    with no_grad():
        return _tensor("constant_", tensor).fill_(val)


def zeros_(tensor):
    return constant_(_tensor("zeros_", tensor), 0.0)


def ones_(tensor):
    return constant_(_tensor("ones_", tensor), 1.0)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """Fill with N(mean, std^2) truncated to [a, b] (absolute bounds, as PyTorch): draws outside are redrawn."""
    _tensor("trunc_normal_", tensor)
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    rng, n = B.host_rng(), tensor.numel()
    out = rng.normal(mean, std, n)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill(tensor, out.reshape(tensor.shape))


def eye_(tensor):
    """Fill a 2-D tensor with the identity (ones on the diagonal, also for non-square shapes)."""
    _tensor("eye_", tensor)
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got shape {tensor.shape}")
    return _fill(tensor, B.np.eye(*tensor.shape))


def xavier_uniform_(tensor, gain=1.0):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010)."""
    _tensor("xavier_uniform_", tensor)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a)


def xavier_normal_(tensor, gain=1.0):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    _tensor("xavier_normal_", tensor)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity):
    if 0 in tensor.shape:
        return 0.0  # nothing to fill (PyTorch warns that it is a no-op)
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al., 2015); `a` is leaky_relu's negative slope,
    fan the fan_in or fan_out (`mode`)."""
    _tensor("kaiming_uniform_", tensor)
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, std^2) with std = gain / sqrt(fan)."""
    _tensor("kaiming_normal_", tensor)
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))


def orthogonal_(tensor, gain=1):
    """A (semi-)orthogonal matrix (Saxe et al., 2013) over the tensor's first dim and the rest flattened: the Q of the
    QR decomposition of a standard normal matrix, column signs fixed by diag(R) (as PyTorch), times gain."""
    _tensor("orthogonal_", tensor)
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, got shape {tensor.shape}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = B.host_rng().standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = B.np.linalg.qr(flat)
    q = q * B.np.sign(B.np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (q * gain).reshape(tensor.shape))


__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_", "eye_",
           "xavier_uniform_",
           "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_"]
