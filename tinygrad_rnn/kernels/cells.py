"""The recurrent cell steps (tanh/relu RNN, LSTM, GRU in both forms) as single Functions: each cell's forward and
backward written once, with its derivation, for every backend (B's out= vocabulary: in place on NumPy and CuPy).
Each has a twin made of primitives in twins.py (the readable specification). The Workspace holds one layer
direction's arrays. Imports: backend, autograd, ops."""

from .. import backend as B
from ..autograd import Function, IndexGrad, OuterGrad
from ..ops import relu_grad, sigmoid_, sigmoid_grad, tanh_grad

xp = B.xp

# The per-step product h @ W^T reads W^T from a contiguous copy made once per forward (Workspace.transposed): with
# the transposed view, OpenBLAS's small (N, K) @ (K, G) product is 25-60% slower (32x128 @ 128x512: 64 us against
# 40 us, one thread). False: the view (bench_charlm --ablate turns it off).
CONTIGUOUS_WT = True


class Workspace:
    """The arrays of one layer direction's T steps in one forward: every state in `states` (T+1, N, W) (the initial
    one copied in: index 0, or T for the reverse direction), so the stacked output and the right factor of dW_hh are
    views, not copies; per-step values the backward needs in `saved` blocks (T, N, width); and the gate gradients in
    `grads` (T, N, G) (and a second block where a cell needs one), made by the first backward step, so gx's gradient
    and the left factor of dW_hh are that array itself. A block is written once per forward (states, saved) or once
    per backward pass (grads); `scratch` rows are for values no node keeps. A new forward makes a new Workspace whose
    arrays come from B.reusable_empty: ones nobody holds any more (no output, view or graph node), so no array a
    Tensor or graph node still holds is ever overwritten, and steady training allocates none."""

    __slots__ = ("states", "h_states", "rev", "N", "blocks")

    def __init__(self, h0, T, width, reverse):
        self.rev, self.N = int(reverse), h0.shape[0]
        self.states = B.reusable_empty((T + 1,) + tuple(h0.shape), h0.dtype)
        self.states[T * self.rev, ...] = h0
        self.h_states = self.states if width == h0.shape[1] else self.states[..., :width]
        self.blocks = {}

    def io(self, t):
        """(the state step t reads, the slot of the state it writes)."""
        return self.states[t + self.rev, ...], self.states[t + 1 - self.rev, ...]

    def outputs(self, width):
        T = self.states.shape[0] - 1
        y = self.states[1 - self.rev:T + 1 - self.rev, ...]
        return y if width == y.shape[2] else y[..., :width]

    def block(self, name, width, dtype):
        """The (T, N, width) array `name` (made on first use): per-step rows indexed by step."""
        b = self.blocks.get(name)
        if b is None:
            b = self.blocks[name] = B.reusable_empty((self.states.shape[0] - 1, self.N, width), dtype)
        return b

    def scratch(self, name, width, dtype):
        """An (N, width) array no graph node keeps, reused by every step."""
        b = self.blocks.get(name)
        if b is None:
            b = self.blocks[name] = B.reusable_empty((self.N, width), dtype)
        return b

    def transposed(self, name, w):
        """w.T as a contiguous array, copied on the first step of this forward and read by every step."""
        if not CONTIGUOUS_WT:
            return w.T
        b = self.blocks.get(name)
        if b is None:
            b = self.blocks[name] = B.reusable_empty((w.shape[1], w.shape[0]), w.dtype)
            b[...] = w.T
        return b

    def span(self, left, t):
        """The place of OuterGrad(left[t], h_t): the engine joins consecutive steps' spans into one product."""
        return (left, self.h_states, t, t + self.rev)


def _rows(ws, name, t, N, width, dtype):
    """Step t's (N, width) row of block `name`, or a fresh array without a workspace."""
    return B.empty((N, width), dtype) if ws is None else ws.block(name, width, dtype)[t, ...]


def _wt(ws, name, w):
    """w.T for the forward's h @ w.T: the workspace's contiguous copy, or the view without a workspace."""
    return w.T if ws is None else ws.transposed(name, w)


def _tmp(ws, name, N, width, dtype):
    return B.empty((N, width), dtype) if ws is None else ws.scratch(name, width, dtype)


def _split_mask(g, mask):
    """(gradient for the rows that ran this step, gradient passed straight to the previous state)."""
    if mask is None:
        return g, None
    zero = xp.zeros_like(g)
    return xp.where(mask, g, zero), xp.where(mask, zero, g)


class Cell(Function):
    """What the step Functions share: the state read and written (s_in, s_out), the step t of gx (t=None: gx is
    already (N, G)), the mask (N, 1) of rows still running (others keep their state and pass its gradient through),
    and the gradient objects. backward() = mask split + step_backward (the cell's maths) + the per-parent gradients."""

    fresh_grad = 1  # the state's gradient is a new array (see Function.fresh_grad)
    ws = None

    def _begin(self, gx, s, t, mask, ws, width):
        """(gx_t, the state read, the array the new state goes to). A workspace serves unmasked runs only."""
        assert ws is None or mask is None
        self.t, self.mask, self.ws = t, mask, ws
        x = gx if t is None else gx[t, ...]
        if ws is None:
            return x, s, B.empty((s.shape[0], width), s.dtype)
        s_in, s_out = ws.io(t)
        return x, s_in, s_out

    def _end(self, out, s):
        return out if self.mask is None else xp.where(self.mask, out, s)

    def grad_rows(self, width, dtype, second=False):
        """This step's rows of the gate-gradient block (or a fresh array)."""
        return _rows(self.ws, "grads2" if second else "grads", self.t, self.h.shape[0], width, dtype)

    def gx_grad(self, da):
        if self.t is None:
            return da
        ws = self.ws
        return IndexGrad((self.t, Ellipsis), da, None if ws is None else ws.blocks["grads"])

    def outer(self, left, right, name="grads"):
        ws = self.ws
        if ws is None:
            return OuterGrad(left, right)
        return OuterGrad(left, right, ws.span(ws.blocks[name], self.t))

    def backward(self, g):
        g, keep = _split_mask(g, self.mask)
        need = self.needs_input_grad
        ds = self.step_backward(self.split_state(g), need[1])
        if ds is not None:
            ds = ds[0] if len(ds) == 1 else xp.concat(ds, axis=1)
            if keep is not None:
                ds += keep
        other = self.other_grads(need)
        return (other[0], ds) + other[1:]

    def other_grads(self, need):
        """The gradients of gx and the weights (every parent but the state), after step_backward."""
        return (self.gx_grad(self.da) if need[0] else None,) + self.weight_grads(need)

    def split_state(self, g):
        return (g,)


# ----------------------------------------------------------------------------------------- tanh / relu RNN
class RNNCell(Cell):
    """h' = act(a), a = gx_t + h @ W_hh^T, act = tanh or relu.
    backward: da = dh' * act'(a) (ops.tanh_grad, ops.relu_grad); dgx_t = da, dh = da @ W_hh, dW_hh = da^T h."""

    def forward(self, gx, h, w_hh, t=None, mask=None, nonlinearity="tanh", ws=None):
        x, h, a = self._begin(gx, h, t, mask, ws, h.shape[1])
        self.h, self.w_hh, self.relu = h, w_hh, nonlinearity == "relu"
        B.matmul(h, _wt(ws, "w_hh_t", w_hh), out=a)
        a += x
        if self.relu:
            a[...] = xp.where(a > 0, a, xp.zeros_like(a))
        else:
            B.tanh(a, out=a)
        self.y = a
        return self._end(a, h)

    def step_backward(self, gs, need_dh):
        (g,) = gs
        da = self.da = self.grad_rows(g.shape[1], g.dtype)
        (relu_grad if self.relu else tanh_grad)(self.y, g, da)
        return (B.matmul(da, self.w_hh),) if need_dh else None

    def weight_grads(self, need):
        return (self.outer(self.da, self.h) if need[2] else None,)


# ----------------------------------------------------------------------------------------- LSTM
class LSTMCell(Cell):
    """One LSTM step on the state s = [h | c] (N, P + H); P = H, or proj_size with W_hr.
    forward:  a = gx_t + h @ W_hh^T, split in column blocks i, f, g, o (each H wide)
              i, f, o = sigmoid(.), g = tanh(.) = 2 sigmoid(2 .) - 1 (one sigmoid_ over all four blocks, g's block
              scaled by 2 first);  c' = f*c + i*g;  k = tanh(c');  m = o*k;  h' = m (or m @ W_hr^T)
    backward (dh', dc' given):
              dW_hr = dh'^T m, dm = dh' @ W_hr        (dm = dh' without projection)
              dC = dc' + dm * o * (1 - k^2)           (the whole gradient of c')
              do_pre = dm * k * o(1-o);   di_pre = dC * g * i(1-i);   df_pre = dC * c * f(1-f)
              dg_pre = dC * i * (1 - g^2)
              dc = dC * f;  dh = da @ W_hh;  dW_hh = da^T h;  dgx_t = da  (da = [di, df, dg, do]_pre)"""

    def forward(self, gx, s, w_hh, w_hr=None, t=None, mask=None, ws=None):
        P, H4 = w_hh.shape[1], w_hh.shape[0]
        H, N, dt = H4 // 4, s.shape[0], s.dtype
        x, s, out = self._begin(gx, s, t, mask, ws, P + H)
        h, c = s[:, :P], s[:, P:]
        a = _rows(ws, "acts", t, N, H4, dt)
        k = _rows(ws, "k", t, N, H, dt)
        B.matmul(h, _wt(ws, "w_hh_t", w_hh), out=a)
        a += x
        gg = a[:, 2 * H:3 * H]
        gg *= 2.0
        sigmoid_(a)
        gg *= 2.0
        gg -= 1.0
        i, f, o = a[:, :H], a[:, H:2 * H], a[:, 3 * H:]
        c2 = out[:, P:]
        B.mul(f, c, out=c2)
        tmp = _tmp(ws, "tmp", N, H, dt)
        B.mul(i, gg, out=tmp)
        c2 += tmp
        B.tanh(c2, out=k)
        if w_hr is None:
            B.mul(o, k, out=out[:, :P])
            m = None
        else:
            m = B.mul(o, k)
            B.matmul(m, w_hr.T, out=out[:, :P])
        self.y, self.c, self.k, self.m, self.h, self.w_hh, self.w_hr, self.P = a, c, k, m, h, w_hh, w_hr, P
        return self._end(out, s)

    def split_state(self, g):
        P = self.P
        dh2 = g[:, :P]
        if self.w_hr is not None:
            self.dh2 = dh2
            dh2 = B.matmul(dh2, self.w_hr)  # dm
        return dh2, g[:, P:]

    def step_backward(self, gs, need_ds):
        dm, dc2 = gs
        y, k, N, H = self.y, self.k, dm.shape[0], self.k.shape[1]
        i, f, gg, o = y[:, :H], y[:, H:2 * H], y[:, 2 * H:3 * H], y[:, 3 * H:]
        da = self.da = self.grad_rows(4 * H, dm.dtype)
        di, df, dg, do = da[:, :H], da[:, H:2 * H], da[:, 2 * H:3 * H], da[:, 3 * H:]
        dt = dm.dtype
        dC = tanh_grad(k, dm, _tmp(self.ws, "dC", N, H, dt))
        dC *= o
        dC += dc2
        # da = [dC*g, dC*c, dC*i, dm*k] * [i(1-i), f(1-f), 1-g^2, o(1-o)], the derivative of all four blocks in one
        # pass over the row: (1 - y) * (y + e), e = 1 on g's block (1-g^2 = (1-g)(1+g)), 0 elsewhere
        B.mul(dC, gg, out=di)
        B.mul(dC, self.c, out=df)
        B.mul(dC, i, out=dg)
        B.mul(dm, k, out=do)
        d1 = B.sub(1.0, y, out=_tmp(self.ws, "d1", N, 4 * H, dt))
        d2 = B.add(y, _g_shift(self.ws, H, dt), out=_tmp(self.ws, "d2", N, 4 * H, dt))
        d1 *= d2
        da *= d1
        if not need_ds:
            return None
        return B.matmul(da, self.w_hh), B.mul(dC, f)

    def weight_grads(self, need):
        out = (self.outer(self.da, self.h) if need[2] else None,)
        if self.w_hr is not None:
            out += (OuterGrad(self.dh2, self.m) if need[3] else None,)
        return out


def _g_shift(ws, H, dtype):
    """(4H,): 1 on the LSTM's g block, 0 on i, f, o (made once per workspace)."""
    b = None if ws is None else ws.blocks.get("g_shift")
    if b is None:
        b = xp.concat((B.zeros((2 * H,), dtype), B.ones((H,), dtype), B.zeros((H,), dtype)))
        if ws is not None:
            ws.blocks["g_shift"] = b
    return b


# ----------------------------------------------------------------------------------------- GRU
def _gru_gates_backward(g, z, n, hmn, dn, dz, tmp):
    """The part both GRU forms share, h' = n + z * (h - n), with z = sigmoid(.), n = tanh(.):
    dn_pre = dh' * (1-z) * (1-n^2) (into dn), dz_pre = dh' * (h-n) * z(1-z) (into dz: the sigmoid derivative
    z(1-z) written out, to share dh' * (1-z) with dn_pre); tmp (N, H) is scratch."""
    B.sub(1.0, z, out=tmp)
    tmp *= g
    tanh_grad(n, tmp, dn)
    B.mul(tmp, z, out=dz)
    dz *= hmn


def _gru_state_grad(dh, g, z, tmp):
    """dh += dh' * z, the direct path through h' = n + z * (h - n)."""
    B.mul(g, z, out=tmp)
    dh += tmp
    return dh


class GRUCell(Cell):
    """One GRU step, gate blocks r, z, n, the reset gate applied after W_hn (PyTorch's form):
    forward:  q = h @ W_hh^T + [0, 0, b_hn];  r, z = sigmoid(gx_rz + q_rz);  n = tanh(gx_n + r * q_n);  h' = n + z*(h-n)
    backward: dn_pre, dz_pre as _gru_gates_backward;  dr_pre = dn_pre * q_n * r(1-r)
              dq = [dr_pre, dz_pre, dn_pre * r];  dh = dq @ W_hh + dh' * z;  dW_hh = dq^T h
              db_hn = sum_N(dn_pre * r) (an OuterGrad with a ones column);  dgx_t = da = [dr, dz, dn]_pre"""

    def forward(self, gx, h, w_hh, b_hn=None, t=None, mask=None, ws=None):
        H, N, dt = h.shape[1], h.shape[0], h.dtype
        x, h, h2 = self._begin(gx, h, t, mask, ws, H)
        q = B.matmul(h, _wt(ws, "w_hh_t", w_hh), out=_rows(ws, "q", t, N, 3 * H, dt))
        qn = q[:, 2 * H:]
        if b_hn is not None:
            qn += b_hn
        rz = B.add(x[:, :2 * H], q[:, :2 * H], out=_rows(ws, "rz", t, N, 2 * H, dt))
        sigmoid_(rz)
        r, z = rz[:, :H], rz[:, H:]
        n = B.mul(r, qn, out=_rows(ws, "n", t, N, H, dt))
        n += x[:, 2 * H:]
        B.tanh(n, out=n)
        hmn = B.sub(h, n, out=_rows(ws, "hmn", t, N, H, dt))
        B.mul(hmn, z, out=h2)
        h2 += n
        self.h, self.w_hh, self.rz, self.n, self.qn, self.hmn = h, w_hh, rz, n, qn, hmn
        return self._end(h2, h)

    def step_backward(self, gs, need_dh):
        (g,) = gs
        N, H = g.shape
        r, z = self.rz[:, :H], self.rz[:, H:]
        da = self.da = self.grad_rows(3 * H, g.dtype)
        dq = self.dq = self.grad_rows(3 * H, g.dtype, second=True)
        dr, dz, dn, drn = da[:, :H], da[:, H:2 * H], da[:, 2 * H:], dq[:, 2 * H:]
        tmp = _tmp(self.ws, "tmp", N, H, g.dtype)
        _gru_gates_backward(g, z, self.n, self.hmn, dn, dz, tmp)
        B.mul(dn, r, out=drn)
        B.sub(1.0, r, out=dr)  # dr_pre = (dn_pre * r) * q_n * (1 - r): the sigmoid derivative r(1-r), r taken from drn
        dr *= drn
        dr *= self.qn
        dq[:, :2 * H] = da[:, :2 * H]
        if not need_dh:
            return None
        return (_gru_state_grad(B.matmul(dq, self.w_hh), g, z, tmp),)

    def weight_grads(self, need):
        out = (self.outer(self.dq, self.h, "grads2") if need[2] else None,)
        if len(need) > 3:  # db_hn = column sums of drn, as the product ones^T drn
            out += (self.bias_grad() if need[3] else None,)
        return out

    def bias_grad(self):
        H = self.n.shape[1]
        drn, ws = self.dq[:, 2 * H:], self.ws
        ones = B.ones_column(drn.shape[0], drn.dtype)
        if ws is None:
            return OuterGrad(ones, drn)
        return OuterGrad(ones, drn, (ws_ones(ws, drn.dtype), drn_block(ws, H), self.t, self.t))


def ws_ones(ws, dtype):
    """(T, N, 1) ones: the left factor that turns per-step row sums into one OuterGrad over a block."""
    b = ws.blocks.get("ones")
    if b is None:
        b = ws.blocks["ones"] = B.ones((ws.states.shape[0] - 1, ws.N, 1), dtype)
    return b


def drn_block(ws, H):
    """The n columns of the GRU's second gradient block, as one view object (spans over it are joined by identity)."""
    b = ws.blocks.get("drn")
    if b is None:
        b = ws.blocks["drn"] = ws.blocks["grads2"][..., 2 * H:]
    return b


class GRUCellResetBefore(Cell):
    """GRU step with the reset gate applied before W_hn (the paper's form), weights w_rz (2H, H) and w_n (H, H):
    forward:  r, z = sigmoid(gx_rz + h @ W_rz^T);  n = tanh(gx_n + (r*h) @ W_n^T);  h' = n + z * (h - n)
    backward: dn_pre, dz_pre as _gru_gates_backward;  d(rh) = dn_pre @ W_n;  dr_pre = d(rh) * h * r(1-r)
              dh = [dr, dz]_pre @ W_rz + d(rh) * r + dh' * z;  dW_rz = [dr, dz]_pre^T h;  dW_n = dn_pre^T (r*h)"""

    def forward(self, gx, h, w_rz, w_n, t=None, mask=None, ws=None):
        H, N, dt = h.shape[1], h.shape[0], h.dtype
        x, h, h2 = self._begin(gx, h, t, mask, ws, H)
        rz = B.matmul(h, _wt(ws, "w_rz_t", w_rz), out=_rows(ws, "rz", t, N, 2 * H, dt))
        rz += x[:, :2 * H]
        sigmoid_(rz)
        r, z = rz[:, :H], rz[:, H:]
        rh = B.mul(r, h, out=_rows(ws, "rh", t, N, H, dt))
        n = B.matmul(rh, _wt(ws, "w_n_t", w_n), out=_rows(ws, "n", t, N, H, dt))
        n += x[:, 2 * H:]
        B.tanh(n, out=n)
        hmn = B.sub(h, n, out=_rows(ws, "hmn", t, N, H, dt))
        B.mul(hmn, z, out=h2)
        h2 += n
        self.h, self.w_rz, self.w_n, self.rz, self.rh, self.n, self.hmn = h, w_rz, w_n, rz, rh, n, hmn
        return self._end(h2, h)

    def step_backward(self, gs, need_dh):
        (g,) = gs
        N, H = g.shape
        r, z, h = self.rz[:, :H], self.rz[:, H:], self.h
        da = self.da = self.grad_rows(3 * H, g.dtype)
        dr, dz, dn = da[:, :H], da[:, H:2 * H], da[:, 2 * H:]
        tmp = _tmp(self.ws, "tmp", N, H, g.dtype)
        _gru_gates_backward(g, z, self.n, self.hmn, dn, dz, tmp)
        drh = B.matmul(dn, self.w_n)
        B.mul(drh, h, out=tmp)
        sigmoid_grad(r, tmp, dr)
        if not need_dh:
            return None
        dh = B.matmul(da[:, :2 * H], self.w_rz)
        B.mul(drh, r, out=tmp)
        dh += tmp
        return (_gru_state_grad(dh, g, z, tmp),)

    def weight_grads(self, need):
        H = self.n.shape[1]
        return (OuterGrad(self.da[:, :2 * H], self.h) if need[2] else None,
                OuterGrad(self.da[:, 2 * H:], self.rh) if need[3] else None)
