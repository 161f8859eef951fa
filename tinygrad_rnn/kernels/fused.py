"""Recurrent cell steps (tanh/relu RNN, LSTM, GRU), the input projection and the output stacker as single
Functions with derived backward, each beside a twin made of primitives (twins.py) that must agree with it.
Imports: helpers, backend, autograd, kernels.numpy_steps, kernels.twins (never tensor: twins call ops.X.apply on the
Tensors they are given).

Step interface (what nn/rnn.py calls; gate blocks are contiguous column ranges, PyTorch's row order):
  gx = linear(x, w_ih, b_ih, b_hh, hh_rows)        # x (T, N, I) -> (T, N, G*H): every step's input part in ONE
                                                   # matmul; b_hh[:hh_rows] is folded in (all of it for RNN/LSTM,
                                                   # the r and z rows for GRU, whose b_hn sits inside r * (...))
  h = rnn_step(gx, h, w_hh, t=t)                   # state (N, H)
  s = lstm_step(gx, s, w_hh, w_hr, t=t)            # state s = [h | c], (N, P + H): one output per node
  h = gru_step(gx, h, w_hh, b_hn, t=t)             # reset_after=False: gru_step(gx, h, (w_rz, w_n), t=t)
  y = stack_states(states, width=P, directions=D)  # states ordered by direction, then original time -> (T, N, D*P)
  outs, last = run_steps(kind, gx, s0, weights, times, masks, tag, buf)  # every step of one layer direction in one
                                                   # loop (same nodes as the *_step calls; what nn's layers use)
`t` picks gx[t] (t=None: gx is already (N, G*H)); its gradient is an IndexGrad into gx's buffer, and dW_hh an
OuterGrad so the engine does ONE (G*H, T*N) @ (T*N, H) product for all steps. `mask` (N, 1) bool marks rows whose
sequence is still running: other rows keep their state and pass its gradient through untouched.

fused.use_primitives() (or TINYGRAD_RNN_FUSED=0 at import) makes these helpers build the twins instead, with a
`kind` tag per gate, so the visualizer can draw the gates."""

import contextlib

from .. import autograd as _autograd
from .. import backend as B
from ..autograd import Function, IndexGrad, OuterGrad, current_tag
from ..autograd import _state as _autograd_state
from ..autograd import tag as _tag_ctx
from ..helpers import getenv
from .twins import gru_before_twin, gru_twin, linear_twin, lstm_twin, rnn_twin, stack_twin

xp = B.xp
_state = {"fused": getenv("TINYGRAD_RNN_FUSED", "1", {"", "0", "1", "true", "false", "yes", "no", "on", "off"})
          not in {"0", "false", "no", "off"}}


def enabled():
    """True when the helpers below build fused nodes, False inside use_primitives()."""
    return _state["fused"]


@contextlib.contextmanager
def use_primitives(flag=True):
    """Context manager: recurrent layers build their steps from primitives (matmul, sigmoid, tanh, slicing),
    one graph node per gate, instead of one fused node per step. Same numbers; slower; drawable."""
    old = _state["fused"]
    _state["fused"] = not flag
    try:
        yield
    finally:
        _state["fused"] = old


_cache = {}


def _consts(kind, width, dtype):
    """Small per-(kind, width, dtype) constant rows, made once ("lstm": the gate scale and shift)."""
    key = (kind, width, dtype)
    out = _cache.get(key)
    if out is None:
        host = B.np
        if kind == "lstm":  # i, f, o are sigmoids = 0.5 * tanh(0.5 a) + 0.5; g is tanh(a)
            h = width // 4
            half = host.full(width, 0.5)
            half[2 * h:3 * h] = 1.0
            shift = host.full(width, 0.5)
            shift[2 * h:3 * h] = 0.0
            out = (B.asarray(half.reshape(1, -1), dtype), B.asarray(shift.reshape(1, -1), dtype))
        else:
            raise ValueError(f"unknown constant kind {kind!r}")
        _cache[key] = out
    return out


def _sigmoid(a):
    # Equal to 1 / (1 + exp(-a)) and overflow-free for any a.
    return 0.5 * xp.tanh(0.5 * a) + 0.5


def _pick(gx, t):
    return gx if t is None else gx[t, ...]


def _gx_grad(da, t):
    return da if t is None else IndexGrad((t, Ellipsis), da)


def _split_mask(g, mask):
    """(gradient for the rows that ran this step, gradient passed straight to the previous state)."""
    if mask is None:
        return g, None
    zero = xp.zeros_like(g)
    return xp.where(mask, g, zero), xp.where(mask, zero, g)


# ----------------------------------------------------------------------------------------- input projection
class Linear(Function):
    """y = x @ w.T + b_ih + b_hh[:hh_rows] (b_hh's other rows are added inside the step), any leading dims.
    backward: dx = g @ w, dw = g2.T @ x2, db_ih = column sums of g2, db_hh = the first hh_rows of those sums."""

    def forward(self, x, w, *biases, has_ih=True, hh_rows=None):
        b_ih, b_hh = (biases + (None, None))[:2] if has_ih else (None, biases[0] if biases else None)
        self.lead, self.hh_rows, self.has_ih = x.shape[:-1], hh_rows, b_ih is not None
        self.x2, self.w = B.reshape(x, (-1, x.shape[-1])), w
        y = xp.matmul(self.x2, w.T)
        if b_hh is not None and hh_rows is not None and hh_rows != b_hh.shape[0]:
            b_hh = xp.concat((b_hh[:hh_rows], xp.zeros_like(b_hh[hh_rows:])))
        bias = b_hh if b_ih is None else (b_ih if b_hh is None else b_ih + b_hh)  # one pass over y, not two
        if bias is not None:
            y += bias
        return B.reshape(y, self.lead + (w.shape[0],))

    def backward(self, g):
        need = self.needs_input_grad
        g2 = B.reshape(g, (-1, g.shape[-1]))
        dx = B.reshape(xp.matmul(g2, self.w), self.lead + (self.w.shape[1],)) if need[0] else None
        dw = xp.matmul(g2.T, self.x2) if need[1] else None
        out = [dx, dw]
        if len(need) > 2:
            db = B.column_sums(g2)
            if self.has_ih:
                out.append(db if need[2] else None)
            if len(out) < len(need):
                rows = self.hh_rows
                out.append(db if rows is None or rows == db.shape[0] else IndexGrad((slice(0, rows),), db[:rows]))
        return tuple(out)


# ----------------------------------------------------------------------------------------- tanh / relu RNN
class RNNCell(Function):
    """h' = act(a), a = gx_t + h @ W_hh^T, act = tanh or relu.
    backward: da = dh' * act'(a) with tanh' = 1 - h'^2 and relu' = [h' > 0];
              dgx_t = da, dh = da @ W_hh, dW_hh = da^T h (an OuterGrad)."""

    fresh_grad = 1  # the state's gradient is a new array (see Function.fresh_grad)

    def forward(self, gx, h, w_hh, t=None, mask=None, nonlinearity="tanh"):
        self.h, self.w_hh, self.t, self.mask, self.relu = h, w_hh, t, mask, nonlinearity == "relu"
        a = xp.matmul(h, w_hh.T)
        a += _pick(gx, t)
        y = xp.where(a > 0, a, xp.zeros_like(a)) if self.relu else xp.tanh(a)
        self.y = y
        return y if mask is None else xp.where(mask, y, h)

    def backward(self, g):
        g, keep = _split_mask(g, self.mask)
        y = self.y
        da = xp.where(y > 0, g, xp.zeros_like(g)) if self.relu else g * (1.0 - y * y)
        need = self.needs_input_grad
        dh = None
        if need[1]:
            dh = xp.matmul(da, self.w_hh)
            if keep is not None:
                dh += keep
        return (_gx_grad(da, self.t) if need[0] else None, dh, OuterGrad(da, self.h) if need[2] else None)


# ----------------------------------------------------------------------------------------- LSTM
class LSTMCell(Function):
    """One LSTM step on the state s = [h | c] (N, P + H); P = H, or proj_size with W_hr.
    forward:  a = gx_t + h @ W_hh^T, split in column blocks i, f, g, o (each H wide)
              i, f, o = sigmoid(.), g = tanh(.);  c' = f*c + i*g;  m = o*tanh(c');  h' = m (or m @ W_hr^T)
    backward (dh', dc' given; k = tanh(c')):
              dW_hr = dh'^T m, dm = dh' @ W_hr        (dm = dh' without projection)
              do_pre = dm * k * o(1-o);   dC = dc' + dm * o * (1 - k^2)
              di_pre = dC * g * i(1-i);   df_pre = dC * c * f(1-f);   dg_pre = dC * i * (1 - g^2)
              dc = dC * f;  dh = da @ W_hh;  dW_hh = da^T h;  dgx_t = da  (da = [di, df, dg, do]_pre)"""

    fresh_grad = 1  # the state's gradient is a new array (see Function.fresh_grad)

    def forward(self, gx, s, w_hh, w_hr=None, t=None, mask=None):
        P, H4 = w_hh.shape[1], w_hh.shape[0]
        H = H4 // 4
        h, c = s[:, :P], s[:, P:]
        a = xp.matmul(h, w_hh.T)
        a += _pick(gx, t)
        half, shift = _consts("lstm", H4, a.dtype)
        a *= half
        y = xp.tanh(a)
        y *= half
        y += shift
        i, f, gg, o = y[:, :H], y[:, H:2 * H], y[:, 2 * H:3 * H], y[:, 3 * H:]
        c2 = f * c
        c2 += i * gg
        k = xp.tanh(c2)
        m = o * k
        h2 = m if w_hr is None else xp.matmul(m, w_hr.T)
        self.y, self.c, self.k, self.m, self.h = y, c, k, m, h
        self.w_hh, self.w_hr, self.t, self.mask, self.P, self.H = w_hh, w_hr, t, mask, P, H
        out = xp.concat((h2, c2), axis=1)
        return out if mask is None else xp.where(mask, out, s)

    def backward(self, g):
        g, keep = _split_mask(g, self.mask)
        P, H, y, k = self.P, self.H, self.y, self.k
        need = self.needs_input_grad
        dh2, dc2 = g[:, :P], g[:, P:]
        dw_hr = None
        if self.w_hr is not None:
            dw_hr = OuterGrad(dh2, self.m) if need[3] else None
            dm = xp.matmul(dh2, self.w_hr)
        else:
            dm = dh2
        i, f, gg, o = y[:, :H], y[:, H:2 * H], y[:, 2 * H:3 * H], y[:, 3 * H:]
        dmo = dm * o
        dC = dmo * (1.0 - k * k)
        dC += dc2
        da = xp.concat((dC * gg * i * (1.0 - i), dC * self.c * f * (1.0 - f), dC * i * (1.0 - gg * gg),
                        dmo * k * (1.0 - o)), axis=1)
        ds = None
        if need[1]:
            ds = xp.concat((xp.matmul(da, self.w_hh), dC * f), axis=1)
            if keep is not None:
                ds += keep
        out = (_gx_grad(da, self.t) if need[0] else None, ds, OuterGrad(da, self.h) if need[2] else None)
        return out if self.w_hr is None else out + (dw_hr,)


# ----------------------------------------------------------------------------------------- GRU
class GRUCell(Function):
    """One GRU step, gate blocks r, z, n.
    reset_after=True (PyTorch):  q = h @ W_hh^T + [0, 0, b_hn];  r, z = sigmoid(gx_rz + q_rz)
                                 n = tanh(gx_n + r * q_n);  h' = n + z * (h - n)
    reset_after=False (paper):   r, z as above without b_hn;  n = tanh(gx_n + (r*h) @ W_n^T)  (b_hn folded in gx)
    backward: dn_pre = dh' * (1-z) * (1-n^2);  dz_pre = dh' * (h-n) * z(1-z);  dh = dh' * z + ...
      after:  dr_pre = dn_pre * q_n * r(1-r);  dq = [dr_pre, dz_pre, dn_pre * r];  dh += dq @ W_hh
              dW_hh = dq^T h;  db_hn = sum_N(dn_pre * r)  (an OuterGrad with a ones column);  dgx_t = [dr, dz, dn]_pre
      before: d(rh) = dn_pre @ W_n;  dr_pre = d(rh) * h * r(1-r);  dh += d(rh) * r + [dr, dz]_pre @ W_rz
              dW_rz = [dr, dz]_pre^T h;  dW_n = dn_pre^T (r*h)"""

    fresh_grad = 1  # the state's gradient is a new array (see Function.fresh_grad)

    def forward(self, gx, h, w_hh, b_hn=None, t=None, mask=None):
        x = _pick(gx, t)
        H = h.shape[1]
        self.h, self.w_hh, self.t, self.mask, self.before = h, w_hh, t, mask, False
        q = xp.matmul(h, w_hh.T)
        if b_hn is not None:
            q[:, 2 * H:] += b_hn
        rz = _sigmoid(x[:, :2 * H] + q[:, :2 * H])
        r, z = rz[:, :H], rz[:, H:]
        n = xp.tanh(x[:, 2 * H:] + r * q[:, 2 * H:])
        self.rz, self.n, self.qn = rz, n, q[:, 2 * H:]
        h2 = n + z * (h - n)
        return h2 if mask is None else xp.where(mask, h2, h)

    def backward(self, g):
        g, keep = _split_mask(g, self.mask)
        need = self.needs_input_grad
        H = g.shape[1]
        r, z, n = self.rz[:, :H], self.rz[:, H:], self.n
        dn = g * (1.0 - z) * (1.0 - n * n)
        drn = dn * r
        dq = xp.concat((dn * self.qn * r * (1.0 - r), g * (self.h - n) * z * (1.0 - z), drn), axis=1)
        dh = None
        if need[1]:
            dh = xp.matmul(dq, self.w_hh)
            dh += g * z
            if keep is not None:
                dh += keep
        da = xp.concat((dq[:, :2 * H], dn), axis=1)
        out = (_gx_grad(da, self.t) if need[0] else None, dh, OuterGrad(dq, self.h) if need[2] else None)
        if len(need) > 3:
            out += (OuterGrad(B.ones_column(g.shape[0], g.dtype), drn) if need[3] else None,)
        return out


class GRUCellResetBefore(Function):
    """GRU step with the reset gate applied before W_hn (the paper's form); see GRUCell for the derivation."""

    fresh_grad = 1  # the state's gradient is a new array (see Function.fresh_grad)

    def forward(self, gx, h, w_rz, w_n, t=None, mask=None):
        x = _pick(gx, t)
        H = h.shape[1]
        rz = _sigmoid(x[:, :2 * H] + xp.matmul(h, w_rz.T))
        r, z = rz[:, :H], rz[:, H:]
        rh = r * h
        n = xp.tanh(x[:, 2 * H:] + xp.matmul(rh, w_n.T))
        self.h, self.w_rz, self.w_n, self.t, self.mask, self.rz, self.rh, self.n = h, w_rz, w_n, t, mask, rz, rh, n
        h2 = n + z * (h - n)
        return h2 if mask is None else xp.where(mask, h2, h)

    def backward(self, g):
        g, keep = _split_mask(g, self.mask)
        need = self.needs_input_grad
        H = g.shape[1]
        r, z, n, h = self.rz[:, :H], self.rz[:, H:], self.n, self.h
        dn = g * (1.0 - z) * (1.0 - n * n)
        drh = xp.matmul(dn, self.w_n)
        drz = xp.concat((drh * h * r * (1.0 - r), g * (h - n) * z * (1.0 - z)), axis=1)
        dh = None
        if need[1]:
            dh = xp.matmul(drz, self.w_rz)
            dh += g * z + drh * r
            if keep is not None:
                dh += keep
        da = xp.concat((drz, dn), axis=1)
        return (_gx_grad(da, self.t) if need[0] else None, dh, OuterGrad(drz, h) if need[2] else None,
                OuterGrad(dn, self.rh) if need[3] else None)


# ----------------------------------------------------------------------------------------- output stacker
class StackStates(Function):
    """y[t, :, d*P:(d+1)*P] = states[d*T + t][:, :P], zero where `valid` (T, N, 1) is False (padding).
    backward: each state gets its slice of g (the c half of an LSTM state gets nothing: an IndexGrad)."""

    def forward(self, *states, width=None, directions=1, valid=None, bufs=None):
        self.width, self.D, self.valid = width, directions, valid
        self.full = states[0].shape[1] == width
        T = len(states) // directions
        if bufs is not None:  # the steps wrote their states into one array per direction: a view, no stacking
            parts = [b.outputs(width) for b in bufs]
        else:
            parts = [xp.stack([s if self.full else s[:, :width] for s in states[d * T:(d + 1) * T]])
                     for d in range(directions)]
        y = parts[0] if directions == 1 else xp.concat(parts, axis=2)
        return y if valid is None else xp.where(valid, y, xp.zeros_like(y))

    def backward(self, g):
        if self.valid is not None:
            g = xp.where(self.valid, g, xp.zeros_like(g))
        P, T, out = self.width, g.shape[0], []
        cols = slice(0, P)
        for d in range(self.D):
            gd = g if self.D == 1 else g[:, :, d * P:(d + 1) * P]
            for t in range(T):
                out.append(gd[t, ...] if self.full else IndexGrad((slice(None), cols), gd[t, ...]))
        return tuple(out)


if B.NAME == "numpy":  # in-place NumPy kernels of the same maths (numpy_steps.py); the xp code above is for the rest
    from . import numpy_steps as _fnp

    RNNCell.forward, RNNCell.backward = _fnp.rnn_forward, _fnp.rnn_backward
    LSTMCell.forward, LSTMCell.backward = _fnp.lstm_forward, _fnp.lstm_backward
    GRUCell.forward, GRUCell.backward = _fnp.gru_forward, _fnp.gru_backward
    from .chain import chain_backward as _chain

    RNNCell.chain = LSTMCell.chain = GRUCell.chain = _chain


# ----------------------------------------------------------------------------------------- dispatch
def _tagged(out, tag):
    fn = out.grad_fn
    if tag is not None and fn is not None:
        fn.tag = {**current_tag(), **tag}
    return out


def linear(x, w, b_ih=None, b_hh=None, hh_rows=None):
    """x @ w.T + b_ih + b_hh[:hh_rows] over any leading dims (the input part of every step at once)."""
    if not _state["fused"]:
        return linear_twin(x, w, b_ih, b_hh, hh_rows)
    return _linear_apply(x, w, b_ih, b_hh, hh_rows)


def _linear_apply(x, w, b_ih, b_hh, hh_rows):
    # Function.apply takes parents positionally; has_ih says whether the first bias is b_ih or b_hh.
    biases = tuple(b for b in (b_ih, b_hh) if b is not None)
    return Linear.apply(x, w, *biases, has_ih=b_ih is not None, hh_rows=hh_rows)


def step_buffers(h0, T, width, reverse=False):
    """Shared arrays for the T fused steps of one layer direction (see numpy_steps.StepBuffers), or None where the
    kernels do not use them (CuPy, the strict stand-in, primitives). h0: the initial state array (N, W)."""
    if B.NAME != "numpy" or not _state["fused"]:
        return None
    return _fnp.StepBuffers(h0, T, width, reverse)


def _kw(buf):
    return {} if buf is None else {"buf": buf}


def rnn_step(gx, h, w_hh, t=None, mask=None, nonlinearity="tanh", tag=None, buf=None):
    """One tanh/relu RNN step: act(gx[t] + h @ w_hh.T); (N, H) -> (N, H). `buf`: from step_buffers(), for a
    step t of a layer run without a mask."""
    if _state["fused"]:
        return _tagged(RNNCell.apply(gx, h, w_hh, t=t, mask=mask, nonlinearity=nonlinearity, **_kw(buf)), tag)
    with _tag_ctx(**(tag or {})):
        return rnn_twin(gx, h, w_hh, t, mask, nonlinearity)


def lstm_step(gx, s, w_hh, w_hr=None, t=None, mask=None, tag=None, buf=None):
    """One LSTM step on s = [h | c] (N, P + H) -> the next [h | c]."""
    if _state["fused"]:
        if w_hr is None:
            return _tagged(LSTMCell.apply(gx, s, w_hh, t=t, mask=mask, **_kw(buf)), tag)
        return _tagged(LSTMCell.apply(gx, s, w_hh, w_hr, t=t, mask=mask, **_kw(buf)), tag)
    with _tag_ctx(**(tag or {})):
        return lstm_twin(gx, s, w_hh, w_hr, t, mask)


def gru_step(gx, h, w_hh, b_hn=None, t=None, mask=None, tag=None, buf=None):
    """One GRU step (N, H) -> (N, H). w_hh: the (3H, H) weight (reset after W_hn, with b_hn (1, H) or None),
    or a pair (w_rz (2H, H), w_n (H, H)) for the paper's form (reset before W_hn)."""
    before = isinstance(w_hh, tuple)
    if _state["fused"]:
        if before:
            return _tagged(GRUCellResetBefore.apply(gx, h, *w_hh, t=t, mask=mask), tag)
        if b_hn is None:
            return _tagged(GRUCell.apply(gx, h, w_hh, t=t, mask=mask, **_kw(buf)), tag)
        return _tagged(GRUCell.apply(gx, h, w_hh, b_hn, t=t, mask=mask, **_kw(buf)), tag)
    with _tag_ctx(**(tag or {})):
        return gru_before_twin(gx, h, *w_hh, t, mask) if before else gru_twin(gx, h, w_hh, b_hn, t, mask)


def _step_class(kind, weights, kw):
    """(the fused Function, its weight parents) for one step of `kind`, as the *_step helpers above choose them."""
    if kind == "rnn":
        return RNNCell, weights[:1]
    if kind == "lstm":
        return LSTMCell, weights if weights[1] is not None else weights[:1]
    w_hh, b_hn = weights
    if isinstance(w_hh, tuple):
        return GRUCellResetBefore, w_hh
    return GRUCell, (w_hh,) if b_hn is None else (w_hh, b_hn)


def run_steps(kind, gx, s, weights, times, masks=None, tag=None, buf=None, **kw):
    """Every step of one layer direction: `kind` "rnn" (weights (w_hh,)), "lstm" ((w_hh, w_hr or None)) or "gru"
    ((w_hh or (w_rz, w_n), b_hn or None)), `times` the step order (reversed for the reverse direction), masks[t]
    or None, tag: the items every step node is tagged with (plus "step"). Returns (outputs as a list indexed by t,
    the final state). Same nodes as calling the *_step helper per step; the fused path builds them in one loop
    (what Function.apply does, without its per-call generality: the Python work per step is most of a small
    model's step time)."""
    T = len(times)
    outs = [None] * T
    base = tag or {}
    if not _state["fused"] or not _autograd_state["grad"] or _autograd_state["anomaly"]:
        step = {"rnn": rnn_step, "lstm": lstm_step, "gru": gru_step}[kind]
        extra = {"buf": buf} if buf is not None and _state["fused"] else {}
        with B.quiet() if extra else contextlib.nullcontext():  # the buffered kernels leave overflow to us
            for t in times:
                s = step(gx, s, *weights, t=t, mask=None if masks is None else masks[t], tag={**base, "step": t},
                         **extra, **kw)
                outs[t] = s
        return outs, s
    cls, wts = _step_class(kind, weights, kw)
    if buf is not None:
        kw["buf"] = buf
    forward, new, tensor = cls.forward, cls.__new__, Function.tensor_type
    wdata = tuple(w.array for w in wts)
    wneed = tuple(w.requires_grad for w in wts)
    gneed, gdata = gx.requires_grad, gx.array
    with B.quiet():  # exp-based gates may overflow to inf, their exact limit: a value, not a warning
        for t in times:
            fn = new(cls)
            fn.needs_input_grad = needs = (gneed, s.requires_grad) + wneed
            out = forward(fn, gdata, s.array, *wdata, t=t, mask=None if masks is None else masks[t], **kw)
            y = tensor.__new__(tensor)  # Tensor._wrap(out, requires), inlined
            y.array, y.grad, y.grad_fn = out, None, None
            y.requires_grad = requires = True in needs
            if requires:  # the attributes Function.apply records
                fn.parents = (gx, s) + wts
                fn.epoch = _autograd._epoch
                fn.tag = {**base, "step": t}
                fn.out_shape, fn.dtype = out.shape, out.dtype  # (released: False, the class default)
                y.grad_fn = fn
            outs[t] = s = y
    return outs, s


def stack_states(states, width, directions=1, valid=None, tag=None, bufs=None):
    """Per-step states (by direction, then original time) -> the layer output (T, N, D*width). `bufs`: the
    directions' step_buffers() when every step wrote its state there (the output is then a view of them)."""
    if _state["fused"]:
        return _tagged(StackStates.apply(*states, width=width, directions=directions, valid=valid, bufs=bufs), tag)
    with _tag_ctx(**(tag or {})):
        return stack_twin(states, width, directions, valid)
