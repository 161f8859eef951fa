"""NumPy-only kernels of the fused cell steps in fused.py: the same maths written with out= and in-place ufuncs,
fewer passes over memory and exp-based gates (cheaper than tanh). fused.py installs them as the Functions'
forward/backward when the backend is NumPy; the generic xp versions stay for CuPy and the strict stand-in, and the
tests check both against the twins. Imports: backend, autograd."""

from .. import backend as B
from ..autograd import IndexGrad, OuterGrad

np = B.xp  # only imported when the backend is NumPy
_scales = {}
# Backward factors that depend only on forward values are made for all steps of a layer direction at once (a few
# calls over (T, N, H) instead of many small ones per step) while that array is at most this many bytes; above it
# the step by step calls win, their rows still in cache.
BATCH_FACTORS_MAX = 1 << 22


def _lstm_scale(H4, dtype):
    """Column factors -1 (i, f, o) and -2 (g): one exp + reciprocal then gives sigmoid(a) = 1 / (1 + exp(-a)) for
    i, f, o and sigmoid(2a) for g, and tanh(a) = 2 sigmoid(2a) - 1."""
    key = (H4, dtype)
    s = _scales.get(key)
    if s is None:
        h = H4 // 4
        s = np.full(H4, -1.0, dtype)
        s[2 * h:3 * h] = -2.0
        _scales[key] = s
    return s


def _sigmoid_(a):
    """a <- 1 / (1 + exp(-a)) in place (exp may overflow to inf, giving the exact limit 0)."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)
    return a


class StepBuffers:
    """One layer direction's arrays, shared by its T step nodes of one forward: every state in `states`
    (T+1, N, W) (the initial one copied in at the start: index 0, or T for the reverse direction), so the stacked
    output and the right factor of dW_hh are views, not copies; and the per-step gate gradients in `grads` (T, N, G),
    made by the first backward step, so gx's gradient and the left factor of dW_hh are that array itself. Each
    slot is written once per forward (states) or once per backward pass (grads); a new forward makes new buffers,
    so no array a graph node still holds is ever overwritten by a later step.
    In a small layer (BATCH_FACTORS_MAX) the cells also keep per-step values of all steps here (`acts`, `k`: written
    once per forward) and the backward factors that depend only on them (`fac`, `K`: made by the first backward
    step for every step at once, a few calls over (T, N, H) instead of many small ones per step; valid for every
    later backward pass too); `tmp`, `tmp4`, `tmpK` are scratch rows that no graph node keeps."""

    __slots__ = ("states", "h_states", "rev", "grads", "grads2", "ones", "N", "drn", "acts", "k", "fac", "K", "tmp",
                 "tmp4", "tmpK")

    def __init__(self, h0, T, width, reverse):
        N = h0.shape[0]
        self.rev = int(reverse)
        self.states = np.empty((T + 1,) + tuple(h0.shape), h0.dtype)
        self.states[T * self.rev] = h0
        self.h_states = self.states if width == h0.shape[1] else self.states[..., :width]
        self.grads = self.grads2 = self.ones = self.drn = None
        self.acts = self.k = self.fac = self.K = self.tmp = self.tmp4 = self.tmpK = None
        self.N = N

    def prev_states(self):
        """(T, N, W): the state each step read, indexed by step."""
        T = self.states.shape[0] - 1
        return self.states[self.rev:T + self.rev]

    def io(self, t):
        """(the state step t reads, the state slot step t writes)."""
        return self.states[t + self.rev], self.states[t + 1 - self.rev]

    def outputs(self, width):
        T = self.states.shape[0] - 1
        y = self.states[1 - self.rev:T + 1 - self.rev]
        return y if width == y.shape[2] else y[..., :width]

    def grad(self, t, width, dtype, second=False):
        """Step t's slot of the (T, N, width) gradient buffer (made on first use)."""
        name = "grads2" if second else "grads"
        g = getattr(self, name)
        if g is None:
            g = np.empty((self.states.shape[0] - 1, self.states.shape[1], width), dtype)
            setattr(self, name, g)
        return g[t]

    def drn_view(self, H):
        """GRU: the n block of the second gradient buffer (one view object, so spans over it can be joined)."""
        if self.drn is None:
            self.drn = self.grads2[..., 2 * H:]
        return self.drn

    def ones_col(self, dtype):
        """(T, N, 1) ones: the left factor that turns per-step row sums into one OuterGrad over the buffer."""
        if self.ones is None:
            self.ones = np.ones((self.states.shape[0] - 1, self.N, 1), dtype)
        return self.ones


def _pick(gx, t):
    return gx if t is None else gx[t]


def _gx_grad(da, t, buf=None):
    if t is None:
        return da
    return IndexGrad((t, Ellipsis), da, None if buf is None else buf.grads)


def _outer(left, right, t, buf, left_base=None, right_base=None):
    """OuterGrad(left, right), with its place in the step buffers when the step ran on them."""
    if buf is None:
        return OuterGrad(left, right)
    lb = buf.grads if left_base is None else left_base
    return OuterGrad(left, right, (lb, buf.h_states if right_base is None else right_base, t, t + buf.rev))


def _split_mask(g, mask):
    if mask is None:
        return g, None
    return np.where(mask, g, 0.0).astype(g.dtype, copy=False), np.where(mask, 0.0, g).astype(g.dtype, copy=False)


# ----------------------------------------------------------------------------------------- RNN
def rnn_forward(self, gx, h, w_hh, t=None, mask=None, nonlinearity="tanh", buf=None):
    if buf is None:
        a = np.matmul(h, w_hh.T)
        a += _pick(gx, t)
    else:  # (buf.io inlined: this runs once per step)
        states, r = buf.states, buf.rev
        h, a = states[t + r], states[t + 1 - r]
        np.matmul(h, w_hh.T, out=a)
        a += gx[t]
    self.h, self.w_hh, self.t, self.mask, self.relu, self.buf = h, w_hh, t, mask, nonlinearity == "relu", buf
    if self.relu:
        np.maximum(a, 0.0, out=a)
    else:
        np.tanh(a, out=a)
    self.y = a
    return a if mask is None else np.where(mask, a, h)


def _rnn_core(self, g, need_dh):
    """Buffered tanh step: grads[t] = (1 - h'^2) * g; returns dh = grads[t] @ W_hh (None unless need_dh). The factor
    1 - h'^2 is made for every step at once while the states are small enough to stay in cache (see
    _lstm_step_factors), else step by step."""
    buf, t = self.buf, self.t
    da = buf.grads[t] if buf.grads is not None else buf.grad(t, g.shape[1], g.dtype)
    fac = buf.fac
    if fac is None and buf.states.nbytes <= BATCH_FACTORS_MAX:
        y = buf.outputs(buf.states.shape[2])
        fac = buf.fac = np.multiply(y, y)
        np.subtract(1.0, fac, out=fac)
    if fac is not None:
        np.multiply(fac[t], g, out=da)
    else:
        y = self.y
        np.multiply(y, y, out=da)
        np.subtract(1.0, da, out=da)
        da *= g
    return np.matmul(da, self.w_hh) if need_dh else None


def rnn_backward(self, g):
    mask, buf, t = self.mask, self.buf, self.t
    need = self.needs_input_grad
    if buf is not None and not self.relu:
        dh = _rnn_core(self, g, need[1])
        grads = buf.grads
        return (IndexGrad((t, Ellipsis), grads[t], grads) if need[0] else None, dh,
                OuterGrad(grads[t], self.h, (grads, buf.h_states, t, t + buf.rev)) if need[2] else None)
    keep = None
    if mask is not None:
        g, keep = _split_mask(g, mask)
    y = self.y
    da = np.empty_like(g) if buf is None else buf.grad(t, g.shape[1], g.dtype)
    if self.relu:
        da[...] = 0
        np.copyto(da, g, where=y > 0)
    else:
        np.multiply(y, y, out=da)
        np.subtract(1.0, da, out=da)
        da *= g
    dh = None
    if need[1]:
        dh = np.matmul(da, self.w_hh)
        if keep is not None:
            dh += keep
    return (_gx_grad(da, t, buf) if need[0] else None, dh, _outer(da, self.h, t, buf) if need[2] else None)


# ----------------------------------------------------------------------------------------- LSTM
def lstm_forward(self, gx, s, w_hh, w_hr=None, t=None, mask=None, buf=None):
    P, H4 = w_hh.shape[1], w_hh.shape[0]
    H = H4 // 4
    if buf is None:
        out = np.empty((s.shape[0], P + H), s.dtype)
        with B.quiet():
            _lstm_cell(self, _pick(gx, t), s, out, w_hh, w_hr, np.empty((s.shape[0], H4), s.dtype),
                       np.empty((s.shape[0], H), s.dtype), np.empty((s.shape[0], H), s.dtype))
    else:  # small layers: gate values and tanh(c') of every step go to buf.acts and buf.k, for batched factors
        s, out = buf.io(t)
        N, dt = buf.N, s.dtype
        if buf.tmp is None:
            T = buf.states.shape[0] - 1
            buf.tmp = np.empty((N, H), dt)
            if T * N * H4 * dt.itemsize <= BATCH_FACTORS_MAX:
                buf.acts, buf.k = np.empty((T, N, H4), dt), np.empty((T, N, H), dt)
        if buf.acts is None:
            a, k = np.empty((N, H4), dt), np.empty((N, H), dt)
        else:
            a, k = buf.acts[t], buf.k[t]
        _lstm_cell(self, gx[t], s, out, w_hh, w_hr, a, k, buf.tmp)  # run_steps runs it in B.quiet()
    self.w_hh, self.w_hr, self.t, self.mask, self.P, self.H, self.buf = w_hh, w_hr, t, mask, P, H, buf
    return out if mask is None else np.where(mask, out, s)


def _lstm_cell(self, x, s, out, w_hh, w_hr, a, k, tmp):
    """out = [h' | c'] from gx_t = x and s = [h | c]; a (N, 4H) gets the gate values, k (N, H) tanh(c'), tmp is
    scratch. exp may overflow to inf (sigmoid's exact limit 0): the callers silence that warning."""
    P, H4 = w_hh.shape[1], w_hh.shape[0]
    H = H4 // 4
    h, c = s[:, :P], s[:, P:]
    np.matmul(h, w_hh.T, out=a)
    a += x
    a *= _lstm_scale(H4, a.dtype)
    np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)
    i, f, gg, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    gg *= 2.0
    gg -= 1.0
    c2 = out[:, P:]
    np.multiply(f, c, out=c2)
    np.multiply(i, gg, out=tmp)
    c2 += tmp
    np.tanh(c2, out=k)
    if w_hr is None:
        np.multiply(o, k, out=out[:, :P])
        m = None
    else:
        m = o * k
        np.matmul(m, w_hr.T, out=out[:, :P])
    self.y, self.c, self.k, self.m, self.h = a, c, k, m, h


def _lstm_factor_math(A, k, c, fac, K, H):
    """fac = [g i(1-i), c f(1-f), i (1-g^2), k o(1-o)] and K = o (1 - k^2) from the gate values A = [i, f, g, o],
    k = tanh(c') and the previous cell c; any leading dims. Then da = fac * [dC, dC, dC, dm], dC = dc' + dm * K."""
    i, f, gg, o = A[..., :H], A[..., H:2 * H], A[..., 2 * H:3 * H], A[..., 3 * H:]
    fi, ff, fg, fo = fac[..., :H], fac[..., H:2 * H], fac[..., 2 * H:3 * H], fac[..., 3 * H:]
    mul, sub = np.multiply, np.subtract
    sub(1.0, i, out=fi); mul(fi, i, out=fi); mul(fi, gg, out=fi)     # noqa: E702
    sub(1.0, f, out=ff); mul(ff, f, out=ff); mul(ff, c, out=ff)      # noqa: E702
    mul(gg, gg, out=fg); sub(1.0, fg, out=fg); mul(fg, i, out=fg)    # noqa: E702
    sub(1.0, o, out=fo); mul(fo, o, out=fo); mul(fo, k, out=fo)      # noqa: E702
    mul(k, k, out=K); sub(1.0, K, out=K); mul(K, o, out=K)           # noqa: E702


def _lstm_step_factors(self):
    """(fac, K) of step t: for every step at once on the first call while the gates are small enough to stay in
    cache (a few calls over (T, N, H) instead of many per step, reused by later backward passes), else this
    step's alone, in scratch rows."""
    buf, t, H = self.buf, self.t, self.H
    if buf.fac is not None:
        return buf.fac[t], buf.K[t]
    A, k = buf.acts, buf.k
    if A is not None:
        buf.fac, buf.K = np.empty_like(A), np.empty_like(k)
        _lstm_factor_math(A, k, buf.prev_states()[..., self.P:], buf.fac, buf.K, H)
        return buf.fac[t], buf.K[t]
    if buf.tmp4 is None:
        buf.tmp4, buf.tmpK = np.empty_like(self.y), np.empty_like(self.k)
    _lstm_factor_math(self.y, self.k, self.c, buf.tmp4, buf.tmpK, H)
    return buf.tmp4, buf.tmpK


def _lstm_core(self, dm, dc2, need_ds):
    """Buffered LSTM step from dm = dh' (or dh' @ W_hr with a projection) and dc': grads[t] = fac[t] * [dC, dC, dC,
    dm] with dC = dc' + dm * K[t]; returns (dh, dc) = (grads[t] @ W_hh, dC * f) as two contiguous arrays (None
    unless need_ds): the product lands in a contiguous array, faster than in the h half of an [h | c] row."""
    H, buf, t = self.H, self.buf, self.t
    ft, Kt = _lstm_step_factors(self)
    N = dm.shape[0]
    da = buf.grads[t] if buf.grads is not None else buf.grad(t, 4 * H, dm.dtype)
    dC = buf.tmp
    np.multiply(dm, Kt, out=dC)
    dC += dc2
    np.multiply(ft.reshape(N, 4, H)[:, :3], dC[:, None, :], out=da.reshape(N, 4, H)[:, :3])
    np.multiply(ft[:, 3 * H:], dm, out=da[:, 3 * H:])
    if not need_ds:
        return None
    return np.matmul(da, self.w_hh), np.multiply(dC, self.y[:, H:2 * H])


def _lstm_chain_core(self, g, need_ds):
    """_lstm_core on the pair (dh', dc') that chain_backward carries from step to step."""
    return _lstm_core(self, g[0], g[1], need_ds)


def _lstm_backward_buffered(self, g):
    P, buf, t = self.P, self.buf, self.t
    need = self.needs_input_grad
    dh2 = g[:, :P]
    dw_hr = dm = None
    if self.w_hr is not None:
        dw_hr = OuterGrad(dh2, self.m) if need[3] else None
        dm = np.matmul(dh2, self.w_hr)
    pair = _lstm_core(self, dh2 if dm is None else dm, g[:, P:], need[1])
    ds = None if pair is None else np.concatenate(pair, axis=1)
    grads = buf.grads
    out = (IndexGrad((t, Ellipsis), grads[t], grads) if need[0] else None, ds,
           OuterGrad(grads[t], self.h, (grads, buf.h_states, t, t + buf.rev)) if need[2] else None)
    return out if self.w_hr is None else out + (dw_hr,)


def lstm_backward(self, g):
    if self.buf is not None:
        return _lstm_backward_buffered(self, g)
    g, keep = _split_mask(g, self.mask)
    P, H, y, k = self.P, self.H, self.y, self.k
    need = self.needs_input_grad
    dh2, dc2 = g[:, :P], g[:, P:]
    dw_hr = None
    if self.w_hr is not None:
        dw_hr = OuterGrad(dh2, self.m) if need[3] else None
        dm = np.matmul(dh2, self.w_hr)
    else:
        dm = dh2
    N, buf = g.shape[0], self.buf
    i, f, gg, o = y[:, :H], y[:, H:2 * H], y[:, 2 * H:3 * H], y[:, 3 * H:]
    da = np.empty((N, 4 * H), g.dtype) if buf is None else buf.grad(self.t, 4 * H, g.dtype)
    di, df, dg, do = da[:, :H], da[:, H:2 * H], da[:, 2 * H:3 * H], da[:, 3 * H:]
    dmo = dm * o
    dC = np.multiply(k, k)
    np.subtract(1.0, dC, out=dC)
    dC *= dmo
    dC += dc2
    # do = dm * o * (1 - o) * k;  d(sigmoid) = y (1 - y) for i, f, o, and d(tanh) = 1 - g^2 for g
    np.subtract(1.0, o, out=do)
    do *= dmo
    do *= k
    np.subtract(1.0, i, out=di)
    di *= i
    np.multiply(gg, gg, out=dg)
    np.subtract(1.0, dg, out=dg)
    dg *= i
    dg *= dC
    di *= gg
    di *= dC
    np.subtract(1.0, f, out=df)
    df *= f
    df *= self.c
    df *= dC
    ds = None
    if need[1]:
        ds = np.empty((N, P + H), g.dtype)
        np.matmul(da, self.w_hh, out=ds[:, :P])
        np.multiply(dC, f, out=ds[:, P:])
        if keep is not None:
            ds += keep
    out = (_gx_grad(da, self.t, buf) if need[0] else None, ds, _outer(da, self.h, self.t, buf) if need[2] else None)
    return out if self.w_hr is None else out + (dw_hr,)


# ----------------------------------------------------------------------------------------- GRU (reset after W_hn)
def gru_forward(self, gx, h, w_hh, b_hn=None, t=None, mask=None, buf=None):
    x = _pick(gx, t)
    H = h.shape[1]
    if buf is None:
        h2 = np.empty_like(h)
    else:
        h, h2 = buf.io(t)
    self.h, self.w_hh, self.t, self.mask, self.buf = h, w_hh, t, mask, buf
    q = np.matmul(h, w_hh.T)
    qn = q[:, 2 * H:]
    if b_hn is not None:
        qn += b_hn
    rz = np.add(x[:, :2 * H], q[:, :2 * H])
    if buf is None:
        with B.quiet():
            _sigmoid_(rz)
    else:  # fused.run_steps runs buffered steps inside B.quiet()
        _sigmoid_(rz)
    r, z = rz[:, :H], rz[:, H:]
    n = np.multiply(r, qn)
    n += x[:, 2 * H:]
    np.tanh(n, out=n)
    hmn = np.subtract(h, n)
    np.multiply(hmn, z, out=h2)
    h2 += n
    self.rz, self.n, self.qn, self.hmn = rz, n, qn, hmn
    return h2 if mask is None else np.where(mask, h2, h)


def _gru_core(self, g, need_dh, da, dq, keep=None):
    """GRU step (reset after W_hn): da = [dr, dz, dn]_pre (gx's gradient) and dq = [dr, dz, dn_pre * r] (the
    gradient of h @ W_hh^T + [0, 0, b_hn]) written in place; returns dh = dq @ W_hh + g * z (None unless need_dh)."""
    H = g.shape[1]
    r, z, n = self.rz[:, :H], self.rz[:, H:], self.n
    dr, dz, dn, drn = da[:, :H], da[:, H:2 * H], da[:, 2 * H:], dq[:, 2 * H:]
    np.multiply(n, n, out=dn)
    np.subtract(1.0, dn, out=dn)
    gz = np.subtract(1.0, z)
    gz *= g                        # g (1 - z)
    dn *= gz                       # dn_pre = g (1 - z)(1 - n^2)
    np.multiply(gz, z, out=dz)
    dz *= self.hmn                 # dz_pre = g (h - n) z (1 - z)
    np.multiply(dn, r, out=drn)    # d(q_n) = dn_pre r
    np.subtract(1.0, r, out=dr)
    dr *= drn
    dr *= self.qn                  # dr_pre = dn_pre q_n r (1 - r)
    dq[:, :2 * H] = da[:, :2 * H]
    if not need_dh:
        return None
    dh = np.matmul(dq, self.w_hh)
    np.multiply(g, z, out=gz)
    dh += gz
    if keep is not None:
        dh += keep
    return dh


def _gru_core_buffered(self, g, need_dh):
    t, buf = self.t, self.buf
    if buf.grads is None:
        buf.grad(t, 3 * g.shape[1], g.dtype)
        buf.grad(t, 3 * g.shape[1], g.dtype, second=True)
    return _gru_core(self, g, need_dh, buf.grads[t], buf.grads2[t])


def gru_backward(self, g):
    g, keep = _split_mask(g, self.mask)
    need = self.needs_input_grad
    N, H = g.shape
    t, buf = self.t, self.buf
    if buf is None:
        da, dq = np.empty((N, 3 * H), g.dtype), np.empty((N, 3 * H), g.dtype)
        dh = _gru_core(self, g, need[1], da, dq, keep)
    else:
        dh = _gru_core_buffered(self, g, need[1])
        da, dq = buf.grads[t], buf.grads2[t]
    drn = dq[:, 2 * H:]
    out = (_gx_grad(da, t, buf) if need[0] else None, dh,
           _outer(dq, self.h, t, buf, left_base=buf and buf.grads2) if need[2] else None)
    if len(need) > 3:  # db_hn = column sums of drn, as the product ones^T drn
        if not need[3]:
            out += (None,)
        elif buf is None:
            out += (OuterGrad(B.ones_column(N, g.dtype), drn),)
        else:
            span = (buf.ones_col(g.dtype), buf.drn_view(H), t, t)
            out += (OuterGrad(B.ones_column(N, g.dtype), drn, span),)
    return out
