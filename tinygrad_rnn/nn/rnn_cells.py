"""Single-step recurrent cells nn.RNNCell, nn.LSTMCell, nn.GRUCell (PyTorch's names, shapes and init), and the
argument checks shared with the multi-step layers in nn/rnn.py. Imports: backend, checks, fused, tensor, nn.module,
nn.parameter."""

import math

from .. import backend as B
from .. import checks
from ..creation import uniform
from ..functions import cat
from ..kernels import fused
from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


def check_size(name, arg, value, positive=True):
    """PyTorch's checks: an int (not a bool), greater than zero (or >= 0 when not `positive`)."""
    return checks.size(name, arg, value, 1 if positive else 0)


def check_nonlinearity(name, nonlinearity):
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{name}: unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")


def check_dtype(name, x, w, label="input"):
    if x.dtype != w.dtype:
        raise TypeError(f"{name}: {label} has dtype {B.dtype_name(x.dtype)} but the parameters are "
                        f"{B.dtype_name(w.dtype)}; "
                        f"convert one of them (x.float(), x.double(), model.double())")


def init_uniform(module, hidden_size):
    """Every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), drawn in registration order (PyTorch's reset_parameters)."""
    stdv = 1.0 / math.sqrt(hidden_size)
    for p in module.parameters():
        p.array = uniform(p.shape, -stdv, stdv, p.dtype)


def zeros_state(shape, dtype):
    return Tensor._wrap(B.zeros(shape, dtype), False)


def module_name(module):
    """The `module` tag of a layer's steps: `layer.name` when the user set one, else the class name."""
    return module.__dict__.get("name") or type(module).__name__


class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, dtype=None):
        super().__init__()
        name = type(self).__name__
        input_size = check_size(name, "input_size", input_size)
        hidden_size = check_size(name, "hidden_size", hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bool(bias)
        G, dtype = num_chunks * hidden_size, dtype or B.default_float()
        self.weight_ih = Parameter(B.zeros((G, input_size), dtype))
        self.weight_hh = Parameter(B.zeros((G, hidden_size), dtype))
        if bias:
            self.bias_ih = Parameter(B.zeros((G,), dtype))
            self.bias_hh = Parameter(B.zeros((G,), dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        init_uniform(self, self.hidden_size)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s

    def _input(self, input):
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D tensor")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input of feature size {self.input_size}, got shape {input.shape}")
        check_dtype(name, input, self.weight_ih)
        return input if input.ndim == 2 else input.unsqueeze(0)

    def _state(self, h, batched, N, label, width=None):
        width = width or self.hidden_size
        expected = (N, width) if batched else (width,)
        if not isinstance(h, Tensor):
            raise TypeError(f"{type(self).__name__}: expected {label} to be a Tensor, got {type(h).__name__}")
        if h.shape != expected:
            raise ValueError(f"{type(self).__name__}: expected {label} of shape {expected}, got {h.shape}")
        check_dtype(type(self).__name__, h, self.weight_hh, label)
        return h if batched else h.unsqueeze(0)

    def _tag(self):
        return {"module": module_name(self), "kind": "cell"}


class RNNCell(RNNCellBase):
    """An Elman RNN cell: h' = act(x @ W_ih^T + b_ih + h @ W_hh^T + b_hh), act = tanh or relu.

    input (N, I) or (I,); hx (N, H) or (H,), zeros when None -> h' (N, H) or (H,).
    weight_ih (H, I), weight_hh (H, H), bias_ih (H,), bias_hh (H,), all ~ U(-1/sqrt(H), 1/sqrt(H)).
        cell = nn.RNNCell(10, 20); h = cell(tr.randn(3, 10)); h = cell(tr.randn(3, 10), h)"""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None):
        check_nonlinearity(type(self).__name__, nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, dtype)

    def forward(self, input, hx=None):
        x = self._input(input)
        batched, N = input.ndim == 2, x.shape[0]
        h = zeros_state((N, self.hidden_size), x.dtype) if hx is None else self._state(hx, batched, N, "hx")
        gx = fused.linear(x, self.weight_ih, self.bias_ih, self.bias_hh, kind="rnn")
        h = fused.rnn_step(gx, h, self.weight_hh, nonlinearity=self.nonlinearity, tag=self._tag())
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """A long short-term memory cell, gate rows i, f, g, o (PyTorch's order):

        i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)    f = sigmoid(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)       o = sigmoid(W_io x + b_io + W_ho h + b_ho)
        c' = f * c + i * g                             h' = o * tanh(c')

    input (N, I) or (I,); hx = (h, c), each (N, H) or (H,), zeros when None -> (h', c').
    weight_ih (4H, I), weight_hh (4H, H), biases (4H,), all ~ U(-1/sqrt(H), 1/sqrt(H)).
        cell = nn.LSTMCell(10, 20); h, c = cell(tr.randn(3, 10))"""

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, dtype)

    def forward(self, input, hx=None):
        x = self._input(input)
        batched, N, H = input.ndim == 2, x.shape[0], self.hidden_size
        if hx is None:
            s = zeros_state((N, 2 * H), x.dtype)
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"LSTMCell: expected hx to be a tuple (h_0, c_0), got {type(hx).__name__}")
            s = cat([self._state(hx[0], batched, N, "h_0"), self._state(hx[1], batched, N, "c_0")], 1)
        gx = fused.linear(x, self.weight_ih, self.bias_ih, self.bias_hh)
        s = fused.lstm_step(gx, s, self.weight_hh, tag=self._tag())
        h, c = s[:, :H], s[:, H:]
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """A gated recurrent unit cell, gate rows r, z, n (PyTorch's order and form):

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))  h' = (1 - z) * n + z * h

    reset_after=False gives the original paper's n = tanh(W_in x + b_in + W_hn (r * h) + b_hn) (same parameters).
    input (N, I) or (I,); hx (N, H) or (H,), zeros when None -> h' (N, H) or (H,).
    weight_ih (3H, I), weight_hh (3H, H), biases (3H,), all ~ U(-1/sqrt(H), 1/sqrt(H)).
        cell = nn.GRUCell(10, 20); h = cell(tr.randn(3, 10))"""

    def __init__(self, input_size, hidden_size, bias=True, dtype=None, *, reset_after=True):
        self.reset_after = bool(reset_after)
        super().__init__(input_size, hidden_size, bias, 3, dtype)

    def forward(self, input, hx=None):
        x = self._input(input)
        batched, N = input.ndim == 2, x.shape[0]
        h = zeros_state((N, self.hidden_size), x.dtype) if hx is None else self._state(hx, batched, N, "hx")
        w_hh, b_hn, rows = gru_recurrent_args(self.weight_hh, self.bias_hh, self.hidden_size, self.reset_after)
        gx = fused.linear(x, self.weight_ih, self.bias_ih, self.bias_hh, hh_rows=rows, kind="gru")
        h = fused.gru_step(gx, h, w_hh, b_hn, tag=self._tag())
        return h if batched else h.squeeze(0)


def gru_recurrent_args(w_hh, b_hh, H, reset_after):
    """(w_hh or (w_rz, w_n), b_hn (1, H) or None, rows of b_hh folded into the input projection)."""
    if reset_after:
        b_hn = None if b_hh is None else b_hh[2 * H:].reshape(1, H)
        return w_hh, b_hn, 2 * H
    return (w_hh[:2 * H], w_hh[2 * H:]), None, None
