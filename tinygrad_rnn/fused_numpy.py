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


def _pick(gx, t):
    return gx if t is None else gx[t]


def _gx_grad(da, t):
    return da if t is None else IndexGrad((t, Ellipsis), da)


def _split_mask(g, mask):
    if mask is None:
        return g, None
    return np.where(mask, g, 0.0).astype(g.dtype, copy=False), np.where(mask, 0.0, g).astype(g.dtype, copy=False)


# ----------------------------------------------------------------------------------------- RNN
def rnn_forward(self, gx, h, w_hh, t=None, mask=None, nonlinearity="tanh"):
    self.h, self.w_hh, self.t, self.mask, self.relu = h, w_hh, t, mask, nonlinearity == "relu"
    a = np.matmul(h, w_hh.T)
    a += _pick(gx, t)
    if self.relu:
        np.maximum(a, 0.0, out=a)
    else:
        np.tanh(a, out=a)
    self.y = a
    return a if mask is None else np.where(mask, a, h)


def rnn_backward(self, g):
    g, keep = _split_mask(g, self.mask)
    y = self.y
    if self.relu:
        da = np.where(y > 0, g, 0.0).astype(g.dtype, copy=False)
    else:
        da = np.multiply(y, y)
        np.subtract(1.0, da, out=da)
        da *= g
    need = self.needs_input_grad
    dh = None
    if need[1]:
        dh = np.matmul(da, self.w_hh)
        if keep is not None:
            dh += keep
    return (_gx_grad(da, self.t) if need[0] else None, dh, OuterGrad(da, self.h) if need[2] else None)


# ----------------------------------------------------------------------------------------- LSTM
def lstm_forward(self, gx, s, w_hh, w_hr=None, t=None, mask=None):
    P, H4 = w_hh.shape[1], w_hh.shape[0]
    H = H4 // 4
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
    out = np.empty((s.shape[0], P + H), a.dtype)
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
    self.w_hh, self.w_hr, self.t, self.mask, self.P, self.H = w_hh, w_hr, t, mask, P, H
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
    N = g.shape[0]
    i, f, gg, o = y[:, :H], y[:, H:2 * H], y[:, 2 * H:3 * H], y[:, 3 * H:]
    da = np.empty((N, 4 * H), g.dtype)
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
    out = (_gx_grad(da, self.t) if need[0] else None, ds, OuterGrad(da, self.h) if need[2] else None)
    return out if self.w_hr is None else out + (dw_hr,)


# ----------------------------------------------------------------------------------------- GRU (reset after W_hn)
def gru_forward(self, gx, h, w_hh, b_hn=None, t=None, mask=None):
    x = _pick(gx, t)
    H = h.shape[1]
    self.h, self.w_hh, self.t, self.mask = h, w_hh, t, mask
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
    h2 = np.multiply(hmn, z)
    h2 += n
    self.rz, self.n, self.qn, self.hmn = rz, n, qn, hmn
    return h2 if mask is None else np.where(mask, h2, h)


def gru_backward(self, g):
    g, keep = _split_mask(g, self.mask)
    need = self.needs_input_grad
    N, H = g.shape
    r, z, n = self.rz[:, :H], self.rz[:, H:], self.n
    da = np.empty((N, 3 * H), g.dtype)
    dq = np.empty_like(da)
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
    out = (_gx_grad(da, self.t) if need[0] else None, dh, OuterGrad(dq, self.h) if need[2] else None)
    if len(need) > 3:
        out += (OuterGrad(_ones(N, g.dtype), drn) if need[3] else None,)
    return out


_ones_cache = {}


def _ones(n, dtype):
    key = (n, dtype)
    o = _ones_cache.get(key)
    if o is None:
        o = _ones_cache[key] = np.ones((n, 1), dtype)
    return o
