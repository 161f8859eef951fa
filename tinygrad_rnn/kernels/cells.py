"""The recurrent cell steps (tanh/relu RNN, LSTM, GRU in both forms) as single Functions: each cell's forward and
backward written once, with its derivation, for every backend (B's out= vocabulary: in place on NumPy and CuPy).
Each has a twin made of primitives in twins.py (the readable specification); kernels/workspace.py holds one layer
direction's arrays. Imports: backend, grads, autograd, ops, kernels.workspace.

Layout. A step's Tensors are batch-major as the user sees them: gx (T, N, G), the state (N, W). Inside a step of a
cell with gates (LSTM, GRU) every array is feature-major, one column per sequence: the gate block of step t is
W_hh @ h_t, a (G, N) array whose gates are contiguous (H, N) row blocks, so each NumPy call runs over contiguous
memory (on the batch-major (N, G) rows a gate is a strided block and the same calls take 1.5-2x as long). The columns
are the transposes of the batch-major arrays (views, no copies): the input projection stores gx as (T, G, N)
(fused.Linear) and a step returns its (W, N) state as the (N, W) view .T. The RNN cell, one gate block with nothing
strided, computes batch-major (Cell.feature_major = False)."""

from .. import backend as B
from .. import grads as _grads
from ..autograd import Function, IndexGrad, OuterGrad
from ..ops import gate_sigmoid_, relu_grad, sigmoid_grad, tanh_grad
from .workspace import columns, input_rows, saved_rows, scratch, weight_t

xp = B.xp

def _split_mask(g, mask):
    """(gradient for the columns that ran this step, gradient passed straight to the previous state)."""
    if mask is None:
        return g, None
    zero = xp.zeros_like(g)
    return xp.where(mask, g, zero), xp.where(mask, zero, g)


class Cell(Function):
    """What the step Functions share: the state read and written (in the cell's layout), the step t of gx
    (t=None: gx is already (N, G)), the mask of sequences still running (others keep their state and pass its
    gradient through), and the gradient objects. backward() = mask split + step_backward (the cell's maths) + the
    per-parent gradients."""

    fresh_grad = 1  # the state's gradient is a new array (see Function.fresh_grad)
    feature_major = True  # the layout the cell computes in (RNNCell: batch-major)
    ws = None

    def cols(self, a):
        """A batch-major array in the cell's layout, and back: feature-major cells see the transpose (a view)."""
        return a.T if self.feature_major else a

    def _begin(self, gx, s, t, mask, ws, width):
        """(gx_t, the state read, the array the new state goes to), in the cell's layout. A workspace serves
        unmasked runs only."""
        assert ws is None or mask is None
        self.t, self.ws, self.N = t, ws, s.shape[0]
        self.mask = None if mask is None else self.cols(mask)  # (1, N) or (N, 1)
        x = self.cols(gx if t is None else gx[t, ...])
        if ws is None:
            return x, self.cols(s), B.empty((width, self.N) if self.feature_major else (self.N, width), s.dtype)
        return (x,) + ws.io(t)

    def _end(self, out, s):
        if self.ws is not None:
            self.ws.record(self.t, out)
        return self.cols(out if self.mask is None else xp.where(self.mask, out, s))

    def keep_grad(self, d, name="grads"):
        """This step's gate gradient d (width, N), computed in a contiguous scratch array, copied into its slot of
        gradient block `name` (the slot is strided: a NumPy op writing into it directly takes 2-3x as long as this
        copy). Without a workspace: d itself (a fresh array). Returns what the weight and gx gradients refer to."""
        if self.ws is None:
            return d
        slot = columns(self.ws.grad_block(name, d.shape[0], d.dtype)[self.t, ...])
        slot[...] = d
        return slot

    def gx_grad(self, da):
        if self.t is None:
            return self.cols(da)
        ws = self.ws
        return IndexGrad((self.t, Ellipsis), self.cols(da), None if ws is None else ws.blocks["grads"])

    def outer(self, left, right, name="grads"):
        """OuterGrad for the product of left and right over the batch, both given in the cell's layout: (G, N) and
        (K, N) feature-major, (N, G) and (N, K) batch-major -> (G, K)."""
        ws, c = self.ws, self.cols
        if ws is None:
            return OuterGrad(c(left), c(right))
        return OuterGrad(c(left), c(right), ws.span(ws.blocks[name], self.t))

    def backward(self, g):
        g, keep = _split_mask(self.cols(g), self.mask)
        need = self.needs_input_grad
        ds = self.step_backward(g, need[1])
        if ds is not None:
            if keep is not None:
                ds += keep
            ds = self.cols(ds)
        other = self.other_grads(need)
        return (other[0], ds) + other[1:]

    def other_grads(self, need):
        """The gradients of gx and the weights (every parent but the state), after step_backward."""
        return (self.gx_grad(self.da) if need[0] else None,) + self.weight_grads(need)

    @staticmethod
    def run_weight_grads(cells, weights, need):
        """The weights' gradients over a Run's steps (every step of a workspace, in the order run), one per weight:
        one product over all steps read from the blocks (grads.joined_run), else the steps' products summed."""
        ends, out = (cells[0].weight_grads(need), cells[-1].weight_grads(need)), []
        for j, p in enumerate(weights):
            one = _grads.joined_run(ends[0][j], ends[1][j], len(cells)) if need[2 + j] else None
            if need[2 + j] and one is None:  # factors with no place in a block (W_hr, the paper's GRU)
                acc = _grads.Accumulator(p.shape, p.dtype)
                for c in cells:
                    acc.add(c.weight_grads(need)[j])
                one = acc.value()
            out.append(one)
        return out


# ----------------------------------------------------------------------------------------- tanh / relu RNN
class RNNCell(Cell):
    """h' = act(a), a = h @ W_hh^T + gx_t (batch-major: with one gate block nothing is strided, and the states and the
    gradient block serve the joined products as they are, without copies), act = tanh or relu.
    backward: da = dh' * act'(a) (ops.tanh_grad, ops.relu_grad); dgx_t = da, dh = da @ W_hh, dW_hh = da^T h."""

    feature_major = False

    def forward(self, gx, h, w_hh, t=None, mask=None, nonlinearity="tanh", ws=None):
        x, h, a = self._begin(gx, h, t, mask, ws, h.shape[1])
        self.h, self.w_hh, self.relu = h, w_hh, nonlinearity == "relu"
        B.matmul(h, weight_t(ws, "w_hh_t", w_hh), out=a)
        a += x
        if self.relu:
            a[...] = xp.where(a > 0, a, xp.zeros_like(a))
        else:
            B.tanh(a, out=a)
        self.y = a
        return self._end(a, h)

    def step_backward(self, g, need_dh):
        N, H = g.shape
        slot = B.empty((N, H), g.dtype) if self.ws is None else self.ws.grad_block("grads", H, g.dtype)[self.t, ...]
        da = self.da = (relu_grad if self.relu else tanh_grad)(self.y, g, slot)
        return B.matmul(da, self.w_hh) if need_dh else None

    def weight_grads(self, need):
        return (self.outer(self.da, self.h) if need[2] else None,)


# ----------------------------------------------------------------------------------------- LSTM
class LSTMCell(Cell):
    """One LSTM step on the state s = [h ; c] (P + H rows, feature-major); P = H, or proj_size with W_hr.
    forward:  a = W_hh h + gx_t, split in row blocks i, f, g, o (each H rows)
              i, f, o = sigmoid(.), g = tanh(.)
              c' = f*c + i*g;  k = tanh(c');  m = o*k;  h' = m (or W_hr m)
    backward (dh', dc' given):
              dW_hr = dh' m^T, dm = W_hr^T dh'        (dm = dh' without projection)
              dC = dc' + dm * o * (1 - k^2)           (the whole gradient of c')
              do_pre = dm * k * o(1-o);   di_pre = dC * g * i(1-i);   df_pre = dC * c * f(1-f)
              dg_pre = dC * i * (1 - g^2)
              dc = dC * f;  dh = W_hh^T da;  dW_hh = da h^T;  dgx_t = da  (da = [di; df; dg; do]_pre)"""

    def forward(self, gx, s, w_hh, w_hr=None, t=None, mask=None, ws=None):
        P, H4 = w_hh.shape[1], w_hh.shape[0]
        H, N, dt = H4 // 4, s.shape[0], s.dtype
        x, s, out = self._begin(gx, s, t, mask, ws, P + H)
        h, c = s[:P, :], s[P:, :]
        a = B.matmul(w_hh, h, out=scratch(ws, "wh", H4, N, dt))
        a = B.add(x, a, out=input_rows(ws, "acts", x, t, 0, H4))
        # i, f, o = sigmoid(.) and g = tanh(.) with ONE tanh over the block: sigmoid(x) = (tanh(x/2) + 1) / 2, the form
        # of ops.gate_sigmoid_ (fewer passes than a sigmoid on the i, f and the o rows and a tanh on the g rows)
        sig = a[:2 * H, :], a[3 * H:, :]
        for b in sig:
            b *= 0.5
        B.tanh(a, out=a)
        for b in sig:
            b *= 0.5
            b += 0.5
        i, f, gg, o = a[:H, :], a[H:2 * H, :], a[2 * H:3 * H, :], a[3 * H:, :]
        c2 = out[P:, :]
        B.mul(f, c, out=c2)
        tmp = scratch(ws, "tmp", H, N, dt)
        B.mul(i, gg, out=tmp)
        c2 += tmp
        k = B.tanh(c2, out=saved_rows(ws, "k", t, H, N, dt))
        if w_hr is None:
            B.mul(o, k, out=out[:P, :])
            m = None
        else:
            m = B.mul(o, k)
            B.matmul(w_hr, m, out=out[:P, :])
        self.y, self.c, self.k, self.m, self.h, self.w_hh, self.w_hr, self.P = a, c, k, m, h, w_hh, w_hr, P
        return self._end(out, s)

    def step_backward(self, g, need_ds):
        P, y, k = self.P, self.y, self.k
        H, N, dt = k.shape[0], self.N, g.dtype
        dm, dc2 = g[:P, :], g[P:, :]
        if self.w_hr is not None:
            self.dh2 = dm
            dm = B.matmul(self.w_hr.T, dm)
        i, f, gg, o = y[:H, :], y[H:2 * H, :], y[2 * H:3 * H, :], y[3 * H:, :]
        da = scratch(self.ws, "da", 4 * H, N, dt)
        di, df, dg, do = da[:H, :], da[H:2 * H, :], da[2 * H:3 * H, :], da[3 * H:, :]
        dC = tanh_grad(k, dm, scratch(self.ws, "dC", H, N, dt))
        dC *= o
        dC += dc2
        # da = [dC*g, dC*c, dC*i, dm*k] * [i(1-i), f(1-f), 1-g^2, o(1-o)], the derivative of all four blocks at once:
        # u = 1 - y, d = u * y on every block, and on g's block 1 - g^2 = (1-g)(1+g) = u + u*g, so d += u there
        B.mul(dC, gg, out=di)
        B.mul(dC, self.c, out=df)
        B.mul(dC, i, out=dg)
        B.mul(dm, k, out=do)
        u = B.sub(1.0, y, out=scratch(self.ws, "d1", 4 * H, N, dt))
        d = B.mul(u, y, out=scratch(self.ws, "d2", 4 * H, N, dt))
        d[2 * H:3 * H, :] += u[2 * H:3 * H, :]
        da *= d
        self.da = self.keep_grad(da)
        if not need_ds:
            return None
        ds = B.empty((P + H, N), dt)
        B.matmul(weight_t(self.ws, "w_hh_t", self.w_hh), da, out=ds[:P, :])
        B.mul(dC, f, out=ds[P:, :])
        return ds

    def weight_grads(self, need):
        out = (self.outer(self.da, self.h) if need[2] else None,)
        if self.w_hr is not None:
            out += (OuterGrad(columns(self.dh2), columns(self.m)) if need[3] else None,)
        return out


# ----------------------------------------------------------------------------------------- GRU
def _gru_new_state(h, n, z, h2, hmn):
    """h2 <- h' = n + z * (h - n), the update both GRU forms share; returns hmn <- h - n (the backward's factor)."""
    B.sub(h, n, out=hmn)
    B.mul(hmn, z, out=h2)
    h2 += n
    return hmn


def _gru_gates_backward(g, z, n, hmn, dn, dz, tmp):
    """The part both GRU forms share, h' = n + z * (h - n), with z = sigmoid(.), n = tanh(.):
    dn_pre = dh' * (1-z) * (1-n^2) (into dn), dz_pre = dh' * (h-n) * z(1-z) (into dz: the sigmoid derivative
    z(1-z) written out, to share dh' * (1-z) with dn_pre); tmp (H, N) is scratch."""
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
    """One GRU step, gate blocks r, z, n, the reset gate applied after W_hn (PyTorch's form), columns:
    forward:  q = W_hh h + [0; 0; b_hn];  r, z = sigmoid(gx_rz + q_rz);  n = tanh(gx_n + r * q_n);  h' = n + z*(h-n)
              (q itself is scratch: the backward needs only r * q_n, which the step keeps)
    backward: dn_pre, dz_pre as _gru_gates_backward;  dr_pre = dn_pre * q_n * r(1-r) = dn_pre * (r * q_n) * (1-r)
              dq = [dr_pre; dz_pre; dn_pre * r];  dh = W_hh^T dq + dh' * z;  dW_hh = dq h^T
              db_hn = sum_N(dn_pre * r) (an OuterGrad with a ones column);  dgx_t = da = [dr; dz; dn]_pre
    In a Run (ws.run) a step keeps only dn_pre * r in the second gradient block (H rows, not 3H): dq's r, z rows
    are da's, already in the first block, and run_weight_grads reads them there (one copy a step into a strided
    block less: those copies are the backward's largest cost after the products)."""

    def forward(self, gx, h, w_hh, b_hn=None, t=None, mask=None, ws=None):
        H, N, dt = h.shape[1], h.shape[0], h.dtype
        x, h, h2 = self._begin(gx, h, t, mask, ws, H)
        q = B.matmul(w_hh, h, out=scratch(ws, "q", 3 * H, N, dt))
        qn = q[2 * H:, :]
        if b_hn is not None:
            qn += b_hn.T
        rz = B.add(x[:2 * H, :], q[:2 * H, :], out=input_rows(ws, "rz", x, t, 0, 2 * H))
        gate_sigmoid_(rz)
        r, z = rz[:H, :], rz[H:, :]
        rqn = B.mul(r, qn, out=saved_rows(ws, "rqn", t, H, N, dt))
        n = B.add(x[2 * H:, :], rqn, out=input_rows(ws, "n", x, t, 2 * H, 3 * H))
        B.tanh(n, out=n)
        hmn = _gru_new_state(h, n, z, h2, saved_rows(ws, "hmn", t, H, N, dt))
        self.h, self.w_hh, self.rz, self.n, self.rqn, self.hmn = h, w_hh, rz, n, rqn, hmn
        return self._end(h2, h)

    def step_backward(self, g, need_dh):
        H, N = g.shape
        r, z = self.rz[:H, :], self.rz[H:, :]
        da = scratch(self.ws, "da", 3 * H, N, g.dtype)
        dr, dz, dn = da[:H, :], da[H:2 * H, :], da[2 * H:, :]
        dq = scratch(self.ws, "dq", 3 * H, N, g.dtype)
        tmp = scratch(self.ws, "tmp", H, N, g.dtype)
        _gru_gates_backward(g, z, self.n, self.hmn, dn, dz, tmp)
        drn = B.mul(dn, r, out=dq[2 * H:, :])
        B.sub(1.0, r, out=dr)  # dr_pre = dn_pre * (r * q_n) * (1 - r): the sigmoid derivative r(1-r)
        dr *= dn
        dr *= self.rqn
        dq[:2 * H, ...] = da[:2 * H, :]
        self.da = self.keep_grad(da)
        run = self.ws is not None and self.ws.run
        self.dq = None if run else self.keep_grad(dq, "grads2")
        self.drn = self.keep_grad(drn, "grads2") if run else self.dq[2 * H:, :]
        if not need_dh:
            return None
        return _gru_state_grad(B.matmul(weight_t(self.ws, "w_hh_t", self.w_hh), dq), g, z, tmp)

    def weight_grads(self, need):
        out = (None,)
        if need[2]:
            if self.dq is None:  # in a Run: this step's dq again from its two slots (only the norms ask for it)
                H = self.drn.shape[0]
                out = (OuterGrad(columns(xp.concat((self.da[:2 * H, :], self.drn))), columns(self.h)),)
            else:
                out = (self.outer(self.dq, self.h, "grads2"),)
        if len(need) > 3:  # db_hn = column sums of drn, as the product ones^T drn
            out += (self.bias_grad() if need[3] else None,)
        return out

    def bias_grad(self):
        H = self.n.shape[0]
        drn, ws = columns(self.drn), self.ws
        ones = B.ones_column(drn.shape[0], drn.dtype)
        if ws is None or self.dq is None:
            return OuterGrad(ones, drn)
        return OuterGrad(ones, drn, (ws_ones(ws, drn.dtype), drn_block(ws, H), self.t, self.t))

    @staticmethod
    def run_weight_grads(cells, weights, need):
        """dW_hh over the whole run as two products, [dr; dz] rows from the first gradient block and dn_pre * r
        rows from the second, against the states the steps read; db_hn the column sums of the second block."""
        if not _grads.JOIN:
            return Cell.run_weight_grads(cells, weights, need)
        ws, out = cells[0].ws, [None] * len(weights)
        right = ws.states_read()
        drn = B.reshape(ws.blocks["grads2"], (-1, weights[0].shape[1]))  # (T*N, H)
        if need[2]:
            H = drn.shape[1]
            rz = B.reshape(ws.blocks["grads"], (-1, 3 * H))[:, :2 * H]
            dw = out[0] = B.empty(tuple(weights[0].shape), right.dtype)
            B.matmul(xp.permute_dims(rz, (1, 0)), right, out=dw[:2 * H, :])
            B.matmul(xp.permute_dims(drn, (1, 0)), right, out=dw[2 * H:, :])
        if len(weights) > 1 and need[3]:
            out[1] = B.reshape(B.col_sums(drn), tuple(weights[1].shape))
        return out


def ws_ones(ws, dtype):
    """(T, N, 1) ones: the left factor that turns per-step row sums into one OuterGrad over a block."""
    b = ws.blocks.get("ones")
    if b is None:
        b = ws.blocks["ones"] = B.ones((ws.T, ws.N, 1), dtype)
    return b


def drn_block(ws, H):
    """The n columns of the GRU's second gradient block, as one view object (spans over it are joined by identity)."""
    b = ws.blocks.get("drn")
    if b is None:
        b = ws.blocks["drn"] = ws.blocks["grads2"][..., 2 * H:]
    return b


class GRUCellResetBefore(Cell):
    """GRU step with the reset gate applied before W_hn (the paper's form), weights w_rz (2H, H) and w_n (H, H),
    columns:
    forward:  r, z = sigmoid(gx_rz + W_rz h);  n = tanh(gx_n + W_n (r*h));  h' = n + z * (h - n)
    backward: dn_pre, dz_pre as _gru_gates_backward;  d(rh) = W_n^T dn_pre;  dr_pre = d(rh) * h * r(1-r)
              dh = W_rz^T [dr; dz]_pre + d(rh) * r + dh' * z;  dW_rz = [dr; dz]_pre h^T;  dW_n = dn_pre (r*h)^T"""

    def forward(self, gx, h, w_rz, w_n, t=None, mask=None, ws=None):
        H, N, dt = h.shape[1], h.shape[0], h.dtype
        x, h, h2 = self._begin(gx, h, t, mask, ws, H)
        rz = B.matmul(w_rz, h, out=scratch(ws, "wh", 2 * H, N, dt))
        rz = B.add(x[:2 * H, :], rz, out=input_rows(ws, "rz", x, t, 0, 2 * H))
        gate_sigmoid_(rz)
        r, z = rz[:H, :], rz[H:, :]
        rh = B.mul(r, h, out=saved_rows(ws, "rh", t, H, N, dt))
        n = B.matmul(w_n, rh, out=scratch(ws, "wn", H, N, dt))
        n = B.add(x[2 * H:, :], n, out=input_rows(ws, "n", x, t, 2 * H, 3 * H))
        B.tanh(n, out=n)
        hmn = _gru_new_state(h, n, z, h2, saved_rows(ws, "hmn", t, H, N, dt))
        self.h, self.w_rz, self.w_n, self.rz, self.rh, self.n, self.hmn = h, w_rz, w_n, rz, rh, n, hmn
        return self._end(h2, h)

    def step_backward(self, g, need_dh):
        H, N = g.shape
        r, z, h = self.rz[:H, :], self.rz[H:, :], self.h
        da = scratch(self.ws, "da", 3 * H, N, g.dtype)
        dr, dz, dn = da[:H, :], da[H:2 * H, :], da[2 * H:, :]
        tmp = scratch(self.ws, "tmp", H, N, g.dtype)
        _gru_gates_backward(g, z, self.n, self.hmn, dn, dz, tmp)
        drh = B.matmul(self.w_n.T, dn)
        B.mul(drh, h, out=tmp)
        sigmoid_grad(r, tmp, dr)
        self.da = self.keep_grad(da)
        if not need_dh:
            return None
        dh = B.matmul(self.w_rz.T, da[:2 * H, :])
        B.mul(drh, r, out=tmp)
        dh += tmp
        return _gru_state_grad(dh, g, z, tmp)

    def weight_grads(self, need):
        H = self.n.shape[0]
        return (OuterGrad(columns(self.da[:2 * H, :]), columns(self.h)) if need[2] else None,
                OuterGrad(columns(self.da[2 * H:, :]), columns(self.rh)) if need[3] else None)
