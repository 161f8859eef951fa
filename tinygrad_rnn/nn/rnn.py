"""Multi-step recurrent layers nn.RNN, nn.LSTM, nn.GRU (every PyTorch option, PyTorch's parameter names, shapes and
order) and nn.Bidirectional. Each step is one fused node (tinygrad_rnn.fused; primitives inside
tr.use_primitives()), tagged with module, layer, direction and step. Imports: backend, fused, tensor, nn.module,
nn.parameter, nn.rnn_cells, nn.utils.rnn."""

import copy
import numbers
import warnings

from .. import backend as B
from ..autograd import current_tag, is_grad_enabled
from ..functions import cat, stack
from ..kernels import fused
from ..tensor import Tensor
from .module import Module
from .parameter import Parameter
from .rnn_cells import (
    check_dtype,
    check_nonlinearity,
    check_size,
    gru_recurrent_args,
    init_uniform,
    module_name,
    zeros_state,
)
from .utils.rnn import PackedSequence, _pack, lengths_to_host, packed_layout, pad_packed_sequence, reverse_padded

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU. Shapes: T time, N batch, I input, H hidden, D = 2 if bidirectional
    else 1, H_out = proj_size or H. forward(input, hx=None, lengths=None):

      input   (T, N, I), (N, T, I) with batch_first, (T, I) unbatched, or a PackedSequence
      hx      (D*num_layers, N, H_out) (LSTM: a pair (h_0, c_0), c_0 (D*num_layers, N, H)); zeros when None.
              batch_first does NOT apply to it, nor to h_n: the batch is always its second axis.
      lengths optional (N,) valid steps per sequence of a padded batch: padded steps leave the state unchanged,
              output zeros there and receive no gradient; the reverse direction starts at each true end, and h_n
              holds each sequence's state at its true last step (as running each sequence alone).
      returns output (T, N, D*H_out) (or (N, T, D*H_out) / (T, D*H_out) / packed like the input) and h_n
              (D*num_layers, N, H_out) (LSTM: (h_n, c_n)). Layer k, direction d lives at index k*D + d."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, nonlinearity="tanh", dtype=None):
        super().__init__()
        name = type(self).__name__
        input_size = check_size(name, "input_size", input_size)
        hidden_size = check_size(name, "hidden_size", hidden_size)
        num_layers = check_size(name, "num_layers", num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability of "
                             f"an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout option adds dropout after all but last recurrent layer, so non-zero "
                          f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=3)
        proj_size = check_size(name, "proj_size", proj_size, positive=False)
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        self.bidirectional, self.proj_size = bool(bidirectional), proj_size
        self.nonlinearity = nonlinearity
        D, G, dtype = 2 if bidirectional else 1, _GATES[mode] * hidden_size, dtype or B.default_float()
        out = proj_size or hidden_size
        for k in range(num_layers):
            layer_in = input_size if k == 0 else out * D
            for d in range(D):
                sfx = f"l{k}" + ("_reverse" if d else "")
                setattr(self, f"weight_ih_{sfx}", Parameter(B.zeros((G, layer_in), dtype)))
                setattr(self, f"weight_hh_{sfx}", Parameter(B.zeros((G, out), dtype)))
                if bias:
                    setattr(self, f"bias_ih_{sfx}", Parameter(B.zeros((G,), dtype)))
                    setattr(self, f"bias_hh_{sfx}", Parameter(B.zeros((G,), dtype)))
                if proj_size:
                    setattr(self, f"weight_hr_{sfx}", Parameter(B.zeros((proj_size, hidden_size), dtype)))
        self.reset_parameters()

    def reset_parameters(self):
        init_uniform(self, self.hidden_size)

    def flatten_parameters(self):
        """A no-op, kept so PyTorch programs run unchanged (e.g. after loading a whole model). In PyTorch it packs
        the weights into one cuDNN buffer; here each weight is already one contiguous array and the fused steps
        read them directly, so there is nothing to pack."""

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        for key, default in (("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, key) != default:
                s += f", {key}={getattr(self, key)!r}"
        return s

    # ----- argument handling
    def _initial(self, hx, batched, N, dtype):
        """Per (layer, direction) initial state: (N, H_out) for RNN/GRU, [h | c] (N, H_out + H) for LSTM."""
        name, D, L, H = type(self).__name__, 2 if self.bidirectional else 1, self.num_layers, self.hidden_size
        P = self.proj_size or H
        lstm = self.mode == "LSTM"
        if hx is None:
            z = zeros_state((N, P + H if lstm else P), dtype)
            return [z] * (L * D)
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{name}: expected hx to be a tuple (h_0, c_0), got {type(hx).__name__}")
            pairs = (("h_0", hx[0], P), ("c_0", hx[1], H))
        else:
            pairs = (("h_0", hx, P),)
        parts = []
        for label, h, width in pairs:
            if not isinstance(h, Tensor):
                raise TypeError(f"{name}: expected {label} to be a Tensor, got {type(h).__name__}")
            expected = (L * D, N, width) if batched else (L * D, width)
            if h.shape != expected:
                extra = ("; h_0 and h_n are (D*num_layers, N, H_out): batch_first does not apply to them"
                         if self.batch_first else "")
                raise ValueError(f"{name}: expected {label} of shape {expected}, got {h.shape}{extra}")
            check_dtype(name, h, self.weight_ih_l0, label)
            parts.append(h if batched else h.unsqueeze(1))
        if not lstm:
            return [parts[0][i] for i in range(L * D)]
        return [cat([parts[0][i], parts[1][i]], 1) for i in range(L * D)]

    def _masks(self, lengths, T, N):
        if lengths is None:
            return None, None
        n_len = lengths_to_host(lengths, f"{type(self).__name__}: lengths")
        if n_len.shape != (N,):
            raise ValueError(f"{type(self).__name__}: expected {N} lengths (one per sequence), got shape "
                             f"{n_len.shape}")
        if N and (n_len.min() < 0 or n_len.max() > T):
            raise ValueError(f"{type(self).__name__}: lengths must be between 0 and T={T}, got {n_len.tolist()}")
        if (n_len == T).all():
            return None, None
        valid = B.asarray((B.np.arange(T)[:, None] < n_len[None, :])[:, :, None])
        return valid, [valid[t, ...] for t in range(T)]

    # ----- the recurrence
    def forward(self, input, hx=None, lengths=None):
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        if packed:
            if lengths is not None:
                raise ValueError(f"{name}: lengths= cannot be combined with a PackedSequence input")
            n_len, order = packed_layout(input)
            padded, _ = pad_packed_sequence(input)
            x, lengths, batched = padded, n_len, True
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f"{name}: expected a Tensor or PackedSequence input, got {type(input).__name__}")
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor")
            batched = input.ndim == 3
            x = input if not batched or not self.batch_first else input.transpose(0, 1)
            x = x if batched else x.unsqueeze(1)
        T, N, feat = x.shape
        shape = tuple(input.data.shape) if packed else input.shape  # as the user passed it (before batch_first)
        if feat != self.input_size:
            raise ValueError(f"{name}: expected input of feature size {self.input_size}, got shape {shape}")
        if T == 0:
            raise ValueError(f"{name}: expected at least one time step, got shape {shape}")
        check_dtype(name, x, self.weight_ih_l0)
        valid, masks = self._masks(lengths, T, N)
        states = self._initial(hx, batched, N, x.dtype)
        # batch_first: the first layer's projection reads the input itself (fused.linear's batch_first)
        first = input if not packed and batched and self.batch_first else None
        output, finals = self._run(x, states, valid, masks, first)

        P = self.proj_size or self.hidden_size
        if self.mode == "LSTM":
            h_n = stack([s[:, :P] for s in finals]) if len(finals) > 1 else finals[0][:, :P].unsqueeze(0)
            c_n = stack([s[:, P:] for s in finals]) if len(finals) > 1 else finals[0][:, P:].unsqueeze(0)
            hidden = (h_n, c_n) if batched else (h_n.squeeze(1), c_n.squeeze(1))
        else:
            h_n = stack(finals) if len(finals) > 1 else finals[0].unsqueeze(0)
            hidden = h_n if batched else h_n.squeeze(1)
        if packed:
            output = _pack(output, n_len, order, input.sorted_indices, input.unsorted_indices)
        elif not batched:
            output = output.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, hidden

    def _run(self, x, states, valid, masks, first=None):
        """All layers and directions over time-major x (T, N, I) (first: the same input batch-first, (N, T, I), for
        the first layer's projection). Returns (output (T, N, D*H_out), final states)."""
        D, H, T = 2 if self.bidirectional else 1, self.hidden_size, x.shape[0]
        P = self.proj_size or H
        params, mode, tagging = self._parameters, self.mode, is_grad_enabled()
        mname = module_name(self)
        layer_in, finals = x, []
        for k in range(self.num_layers):
            seq, spaces = [], []
            for d in range(D):
                sfx = f"l{k}" + ("_reverse" if d else "")
                w_ih, w_hh = params[f"weight_ih_{sfx}"], params[f"weight_hh_{sfx}"]
                b_ih, b_hh = params.get(f"bias_ih_{sfx}"), params.get(f"bias_hh_{sfx}")
                if mode == "GRU":
                    w_hh, extra, rows = gru_recurrent_args(w_hh, b_hh, H, self.reset_after)
                    kind, weights, kw = "gru", (w_hh, extra), {}
                elif mode == "LSTM":
                    rows = None
                    kind, weights, kw = "lstm", (w_hh, params.get(f"weight_hr_{sfx}")), {}
                else:
                    rows = None
                    kind, weights, kw = "rnn", (w_hh,), {"nonlinearity": self.nonlinearity}
                if k == 0 and first is not None:
                    gx = fused.linear(first, w_ih, b_ih, b_hh, hh_rows=rows, kind=kind, batch_first=True)
                else:
                    gx = fused.linear(layer_in, w_ih, b_ih, b_hh, hh_rows=rows, kind=kind)
                s = states[k * D + d]
                # a workspace (one array for all states of a direction) serves runs without masks
                # gx is read by these steps only: they may write their gate activations over it
                ws = fused.step_workspace(s.array, T, P, d == 1, kind, gx) if masks is None else None
                if ws is not None:
                    spaces.append(ws)
                base = {**current_tag(), "module": mname, "layer": k, "direction": d, "kind": "cell"}
                part, s = fused.run_direction(kind, gx, s, weights, range(T) if d == 0 else range(T - 1, -1, -1),
                                              masks, base, ws, **kw)
                seq.append(part)
                finals.append(s)
            tag = {"module": mname, "layer": k, "kind": "output"} if tagging else None
            layer_in = fused.stack_states(seq, P, D, valid, tag=tag, workspaces=spaces if len(spaces) == D else None)
            if self.dropout and self.training and k < self.num_layers - 1:
                layer_in = layer_in * self._dropout_mask(layer_in)
        return layer_in, finals

    def _dropout_mask(self, y):
        p = self.dropout
        keep = B.host_rng().random(y.shape) >= p
        scale = keep / (1.0 - p) if p < 1 else keep * 0.0
        return Tensor._wrap(B.asarray(scale, dtype=y.dtype), False)


class RNN(RNNBase):
    """A multi-layer Elman RNN: h_t = act(x_t @ W_ih^T + b_ih + h_{t-1} @ W_hh^T + b_hh), act = tanh or relu.

    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False, dropout=0.0,
    bidirectional=False). Shapes and forward(input, hx=None, lengths=None) as in RNNBase: returns (output, h_n).
    Parameters weight_ih_l{k}{_reverse} (H, I or D*H), weight_hh_l{k} (H, H), bias_ih_l{k}, bias_hh_l{k} (H,),
    all ~ U(-1/sqrt(H), 1/sqrt(H)). dropout (between layers, training only) draws its masks from tr.manual_seed.
        rnn = nn.RNN(10, 20, num_layers=2); out, h_n = rnn(tr.randn(5, 3, 10))   # (5, 3, 20), (2, 3, 20)"""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        check_nonlinearity("RNN", nonlinearity)
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         nonlinearity=nonlinearity, dtype=dtype)


class LSTM(RNNBase):
    """A multi-layer long short-term memory RNN, gate rows i, f, g, o:

        i, f, o = sigmoid(x W_i{i,f,o}^T + b_i. + h W_h{i,f,o}^T + b_h.);  g = tanh(x W_ig^T + b_ig + h W_hg^T + b_hg)
        c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)  (then h_t @ W_hr^T when proj_size > 0)

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False,
    proj_size=0, *, forget_bias=None). forward(input, hx=None, lengths=None) -> (output, (h_n, c_n)); see RNNBase.
    Parameters weight_ih_l{k}{_reverse} (4H, I or D*H_out), weight_hh_l{k} (4H, H_out), bias_ih_l{k},
    bias_hh_l{k} (4H,), weight_hr_l{k} (proj_size, H), all ~ U(-1/sqrt(H), 1/sqrt(H)). forget_bias (not in PyTorch):
    when given, the forget rows of every bias_ih are set to it and those of bias_hh to 0 (a common trick: 1.0).
        lstm = nn.LSTM(10, 20, batch_first=True); out, (h_n, c_n) = lstm(tr.randn(3, 5, 10))   # (3, 5, 20)"""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, dtype=None, *, forget_bias=None):
        self.forget_bias = forget_bias
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, dtype=dtype)

    def reset_parameters(self):
        super().reset_parameters()
        if self.forget_bias is None or not self.bias:
            return
        H = self.hidden_size
        for name, p in self.named_parameters():
            if name.startswith("bias_"):
                host = B.np.array(B.to_host(p.array), copy=True)
                host[H:2 * H] = self.forget_bias if name.startswith("bias_ih") else 0.0
                p.array = B.asarray(host, dtype=p.dtype)


class GRU(RNNBase):
    """A multi-layer gated recurrent unit RNN, gate rows r, z, n (PyTorch's form):

        r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr);  z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
        n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn));  h_t = (1 - z) * n + z * h_{t-1}

    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False, *,
    reset_after=True). reset_after=False (not in PyTorch) is the paper's n = tanh(x W_in^T + b_in + (r*h) W_hn^T +
    b_hn), same parameters. forward(input, hx=None, lengths=None) -> (output, h_n); see RNNBase.
    Parameters weight_ih_l{k}{_reverse} (3H, I or D*H), weight_hh_l{k} (3H, H), biases (3H,), ~ U(-1/sqrt(H), ..).
        gru = nn.GRU(10, 20, bidirectional=True); out, h_n = gru(tr.randn(5, 3, 10))   # (5, 3, 40), (2, 3, 20)"""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, dtype=None, *, reset_after=True):
        self.reset_after = bool(reset_after)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype)


_MERGE = ("concat", "sum", "mul", "ave")


class Bidirectional(Module):
    """Run a single-direction recurrent module forward and (a copy of it) over each sequence reversed, then merge.

    layer: any module mapping time-major (T, N, I) (or batch_first) input to (output (T, N, F), state) -- nn.RNN,
    nn.LSTM, nn.GRU, or your own loop over a cell. The reverse copy gets fresh parameters (reset_parameters())
    when the layer has that method. merge_mode: "concat" -> (T, N, 2F), "sum", "mul", "ave" -> (T, N, F).
    forward(input, hx=None, lengths=None): hx None or a pair (hx_forward, hx_reverse); with lengths, each sequence
    is reversed within its own length (the layer must accept lengths= then). Returns (output, state): state
    interleaved like a bidirectional PyTorch layer (index 2k + d) when both states are Tensors (or pairs of
    Tensors) of shape (L, N, H), else the pair (state_forward, state_reverse).
        bi = nn.Bidirectional(nn.GRU(10, 20)); out, h_n = bi(tr.randn(5, 3, 10))   # (5, 3, 40), (2, 3, 20)"""

    def __init__(self, layer, merge_mode="concat"):
        super().__init__()
        if merge_mode not in _MERGE:
            raise ValueError(f"Bidirectional: merge_mode must be one of {_MERGE}, got {merge_mode!r}")
        if getattr(layer, "bidirectional", False):
            raise ValueError("Bidirectional: the wrapped layer is already bidirectional")
        self.merge_mode = merge_mode
        self.forward_layer = layer
        reverse = copy.deepcopy(layer)
        if hasattr(reverse, "reset_parameters"):
            reverse.reset_parameters()
        self.backward_layer = reverse

    def extra_repr(self):
        return f"merge_mode={self.merge_mode!r}"

    def forward(self, input, hx=None, lengths=None):
        batch_first = bool(getattr(self.forward_layer, "batch_first", False))
        hf, hr = (None, None) if hx is None else hx
        kw = {} if lengths is None else {"lengths": lengths}
        out_f, st_f = self.forward_layer(input, hf, **kw)
        flipped = reverse_padded(input, lengths, batch_first=batch_first)
        out_r, st_r = self.backward_layer(flipped, hr, **kw)
        out_r = reverse_padded(out_r, lengths, batch_first=batch_first)
        if self.merge_mode == "concat":
            out = cat([out_f, out_r], -1)
        elif self.merge_mode == "sum":
            out = out_f + out_r
        elif self.merge_mode == "mul":
            out = out_f * out_r
        else:
            out = (out_f + out_r) * 0.5
        return out, _interleave(st_f, st_r)


def _interleave(a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.shape == b.shape and a.ndim == 3:
        return stack([a, b], 1).reshape((a.shape[0] * 2,) + a.shape[1:])
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and all(
            isinstance(x, Tensor) and isinstance(y, Tensor) and x.shape == y.shape and x.ndim == 3
            for x, y in zip(a, b, strict=True)):
        return tuple(_interleave(x, y) for x, y in zip(a, b, strict=True))
    return (a, b)
