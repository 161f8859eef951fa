"""NumPy-only kernels of the fused cell steps in fused.py: the same maths written with out= and in-place ufuncs,
fewer passes over memory and exp-based gates (cheaper than tanh). fused.py installs them as the Functions'
forward/backward when the backend is NumPy; the generic xp versions stay for CuPy and the strict stand-in, and the
tests check both against the twins. Imports: backend, autograd."""

from . import backend as B
from .autograd import IndexGrad, OuterGrad

np = B.xp  # only imported when the backend is NumPy
_scales = {}


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
    so no array a graph node still holds is ever overwritten by a later step."""

    __slots__ = ("states", "h_states", "rev", "grads", "grads2", "ones", "N", "drn")

    def __init__(self, h0, T, width, reverse):
        N = h0.shape[0]
        self.rev = int(reverse)
        self.states = np.empty((T + 1,) + tuple(h0.shape), h0.dtype)
        self.states[T * self.rev] = h0
        self.h_states = self.states if width == h0.shape[1] else self.states[..., :width]
        self.grads = self.grads2 = self.ones = self.drn = None
        self.N = N

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
    else:
        h, a = buf.io(t)
        np.matmul(h, w_hh.T, out=a)
    self.h, self.w_hh, self.t, self.mask, self.relu, self.buf = h, w_hh, t, mask, nonlinearity == "relu", buf
    a += _pick(gx, t)
    if self.relu:
        np.maximum(a, 0.0, out=a)
    else:
        np.tanh(a, out=a)
    self.y = a
    return a if mask is None else np.where(mask, a, h)


def rnn_backward(self, g):
    g, keep = _split_mask(g, self.mask)
    y, buf = self.y, self.buf
    da = np.empty_like(g) if buf is None else buf.grad(self.t, g.shape[1], g.dtype)
    if self.relu:
        da[...] = 0
        np.copyto(da, g, where=y > 0)
    else:
        np.multiply(y, y, out=da)
        np.subtract(1.0, da, out=da)
        da *= g
    need = self.needs_input_grad
    dh = None
    if need[1]:
        dh = np.matmul(da, self.w_hh)
        if keep is not None:
            dh += keep
    return (_gx_grad(da, self.t, buf) if need[0] else None, dh, _outer(da, self.h, self.t, buf) if need[2] else None)


# ----------------------------------------------------------------------------------------- LSTM
def lstm_forward(self, gx, s, w_hh, w_hr=None, t=None, mask=None, buf=None):
    P, H4 = w_hh.shape[1], w_hh.shape[0]
    H = H4 // 4
    if buf is None:
        out = np.empty((s.shape[0], P + H), s.dtype)
    else:
        s, out = buf.io(t)
    h, c = s[:, :P], s[:, P:]
    a = np.matmul(h, w_hh.T)
    a += _pick(gx, t)
    a *= _lstm_scale(H4, a.dtype)
    with B.quiet():
        np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)
    i, f, gg, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    gg *= 2.0
    gg -= 1.0
    c2 = out[:, P:]
    np.multiply(f, c, out=c2)
    tmp = i * gg
    c2 += tmp
    k = np.tanh(c2)
    if w_hr is None:
        np.multiply(o, k, out=out[:, :P])
        m = None
    else:
        m = o * k
        out[:, :P] = np.matmul(m, w_hr.T)
    self.y, self.c, self.k, self.m, self.h = a, c, k, m, h
    self.w_hh, self.w_hr, self.t, self.mask, self.P, self.H, self.buf = w_hh, w_hr, t, mask, P, H, buf
    return out if mask is None else np.where(mask, out, s)


def lstm_backward(self, g):
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
    with B.quiet():
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


def gru_backward(self, g):
    g, keep = _split_mask(g, self.mask)
    need = self.needs_input_grad
    N, H = g.shape
    r, z, n, buf = self.rz[:, :H], self.rz[:, H:], self.n, self.buf
    if buf is None:
        da, dq = np.empty((N, 3 * H), g.dtype), np.empty((N, 3 * H), g.dtype)
    else:
        da, dq = buf.grad(self.t, 3 * H, g.dtype), buf.grad(self.t, 3 * H, g.dtype, second=True)
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
    dh = None
    if need[1]:
        dh = np.matmul(dq, self.w_hh)
        np.multiply(g, z, out=gz)
        dh += gz
        if keep is not None:
            dh += keep
    t = self.t
    out = (_gx_grad(da, t, buf) if need[0] else None, dh,
           _outer(dq, self.h, t, buf, left_base=buf and buf.grads2) if need[2] else None)
    if len(need) > 3:  # db_hn = column sums of drn, as the product ones^T drn
        if not need[3]:
            out += (None,)
        elif buf is None:
            out += (OuterGrad(_ones(N, g.dtype), drn),)
        else:
            span = (buf.ones_col(g.dtype), buf.drn_view(H), t, t)
            out += (OuterGrad(_ones(N, g.dtype), drn, span),)
    return out


_ones_cache = {}


def _ones(n, dtype):
    key = (n, dtype)
    o = _ones_cache.get(key)
    if o is None:
        o = _ones_cache[key] = np.ones((n, 1), dtype)
    return o
