# Hand-written NumPy "ceiling" for one char-LM training step:
# Embedding -> LSTM/GRU/tanh-RNN (1 layer, PyTorch layout) -> Linear -> mean cross-entropy -> backward -> Adam.
# No autograd: buffers are preallocated, per-step Python work is a handful of ufunc/matmul calls.
import numpy as np

GATES = {"lstm": 4, "gru": 3, "rnn": 1}
PARAM_NAMES = ("embedding.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0",
               "rnn.bias_ih_l0", "rnn.bias_hh_l0", "fc.weight", "fc.bias")
ONEHOT_MAX_VOCAB = 1024  # embedding backward: one-hot matmul below this vocab size, np.add.at above


class NumpyCharLM:
    """Char-level LM with PyTorch parameter names/layout, trained with Adam (torch defaults).

    tokens/targets are int arrays of shape (T, B) (time-major); initial hidden (and cell) state is 0.
    fuse_embedding=False computes what a framework's graph computes (gather rows, (T*B,I) @ W_ih^T,
    dX = dA @ W_ih, scatter dX). fuse_embedding=True uses the small vocab instead: project the table
    once (E @ W_ih^T, V rows), gather projected rows, and in backward sum dA per token first
    (S = onehot @ dA, V rows), so dW_ih = S^T E and dE = S W_ih. Same math, far fewer FLOPs.
    `params` and `grads` are dicts of views into one flat buffer each (so Adam is a few whole-buffer
    ops); the arrays in `grads` are overwritten by the next loss_and_grads/step call.
    """

    def __init__(self, cell, vocab, embed, hidden, seed=0, dtype=np.float32,
                 lr=1e-3, betas=(0.9, 0.999), eps=1e-8, fuse_embedding=False):
        if cell not in GATES:
            raise ValueError(f"cell must be one of {sorted(GATES)}, got {cell!r}")
        self.cell, self.vocab, self.embed, self.hidden = cell, vocab, embed, hidden
        self.dtype = np.dtype(dtype)
        self.fuse_embedding = fuse_embedding
        self.lr, self.betas, self.eps = lr, betas, eps
        GH = GATES[cell] * hidden
        shapes = {"embedding.weight": (vocab, embed), "rnn.weight_ih_l0": (GH, embed),
                  "rnn.weight_hh_l0": (GH, hidden), "rnn.bias_ih_l0": (GH,),
                  "rnn.bias_hh_l0": (GH,), "fc.weight": (vocab, hidden), "fc.bias": (vocab,)}
        total = sum(int(np.prod(s)) for s in shapes.values())
        self._flat = np.empty(total, self.dtype)
        self._gflat = np.zeros(total, self.dtype)
        self.params, self.grads, off = {}, {}, 0
        for name in PARAM_NAMES:
            n = int(np.prod(shapes[name]))
            self.params[name] = self._flat[off:off + n].reshape(shapes[name])
            self.grads[name] = self._gflat[off:off + n].reshape(shapes[name])
            off += n
        # PyTorch-style init: Embedding ~ N(0,1); RNN and Linear ~ U(-1/sqrt(fan), 1/sqrt(fan)).
        rng = np.random.default_rng(seed)
        k = 1.0 / np.sqrt(hidden)
        for name in PARAM_NAMES:
            p = self.params[name]
            p[...] = rng.standard_normal(p.shape) if name == "embedding.weight" else rng.uniform(-k, k, p.shape)
        self._m = np.zeros_like(self._flat)
        self._v = np.zeros_like(self._flat)
        self._tmp = np.empty_like(self._flat)
        self._tmp2 = np.empty_like(self._flat)
        self._t = 0
        self._bufkey, self._buf = None, None
        # Column scale folded into the gate pre-activations so one exp + reciprocal gives every gate:
        # sigmoid(a) = 1/(1+exp(-a)); tanh(a) = 2/(1+exp(-2a)) - 1.
        H = hidden
        if cell == "lstm":
            s = np.concatenate([np.full(2 * H, -1.0), np.full(H, -2.0), np.full(H, -1.0)])
        elif cell == "gru":
            s = np.concatenate([np.full(2 * H, -1.0), np.ones(H)])  # n gate uses np.tanh directly
        else:
            s = np.ones(H)  # rnn uses np.tanh directly
        self._colscale = s.astype(self.dtype)

    # ------------------------------------------------------------------ buffers
    def _buffers(self, T, B):
        if self._bufkey == (T, B):
            return self._buf
        H, D, V, dt = self.hidden, self.embed, self.vocab, self.dtype
        GH = GATES[self.cell] * H
        N = T * B
        fused = self.fuse_embedding
        b = dict(A=np.empty((T, B, GH), dt), Hs=np.zeros((T + 1, B, H), dt), logits=np.empty((N, V), dt),
                 dH=np.empty((T, B, H), dt), dA=np.empty((T, B, GH), dt), tmpG=np.empty((B, GH), dt),
                 tmpH=np.empty((B, H), dt), tmpH2=np.empty((B, H), dt), ones=np.ones(N, dt),
                 rows=np.arange(N), onehot=np.zeros((V, N), dt) if V <= ONEHOT_MAX_VOCAB else None)
        if fused:
            b.update(S=np.empty((V, GH), dt))
        else:
            b.update(X=np.empty((N, D), dt), dX=np.empty((N, D), dt))
        if self.cell == "lstm":
            b.update(C=np.zeros((T + 1, B, H), dt), TC=np.empty((T, B, H), dt), dc=np.empty((B, H), dt))
        elif self.cell == "gru":
            b.update(HPn=np.empty((T, B, H), dt), dXP=np.empty((T, B, GH), dt), An=np.empty((T, B, H), dt))
        self._bufkey, self._buf = (T, B), b
        return b

    # ------------------------------------------------------------------ public API
    def loss_and_grads(self, tokens, targets):
        """Forward + backward; returns (loss: float, grads: dict name -> array, overwritten next call)."""
        return self._forward_backward(tokens, targets), self.grads

    def step(self, tokens, targets):
        """One training step (forward, backward, Adam update); returns the loss before the update."""
        loss = self._forward_backward(tokens, targets)
        self._adam()
        return loss

    # ------------------------------------------------------------------ core
    def _forward_backward(self, tokens, targets):
        tokens = np.asarray(tokens)
        T, B = tokens.shape
        bf = self._buffers(T, B)
        p, g = self.params, self.grads
        H, N = self.hidden, T * B
        W_ih, W_hh = p["rnn.weight_ih_l0"], p["rnn.weight_hh_l0"]
        b_ih, b_hh = p["rnn.bias_ih_l0"], p["rnn.bias_hh_l0"]
        s = self._colscale
        idx = tokens.reshape(N)
        E = p["embedding.weight"]
        fused = self.fuse_embedding
        if self.cell == "gru":  # b_hh of the n gate sits inside r * (W_hn h + b_hn)
            bias = b_ih.copy()
            bias[:2 * H] += b_hh[:2 * H]
        else:
            bias = b_ih + b_hh
        bias *= s
        # Input projection of all steps at once, with the gate column scale s folded in.
        A = bf["A"]
        A2 = A.reshape(N, -1)
        W_ih_sT = (W_ih * s[:, None]).T
        if fused:
            P = E @ W_ih_sT
            P += bias
            np.take(P, idx, axis=0, out=A2)
        else:
            X = bf["X"]
            np.take(E, idx, axis=0, out=X)
            np.matmul(X, W_ih_sT, out=A2)
            A2 += bias
        W_hh_sT = (W_hh * s[:, None]).T

        Hs = bf["Hs"]
        with np.errstate(over="ignore"):
            getattr(self, "_fwd_" + self.cell)(T, bf, W_hh_sT, b_hh)

        # Output layer + mean cross-entropy on all T*B rows at once.
        Hflat = Hs[1:].reshape(N, H)
        logits = bf["logits"]
        np.matmul(Hflat, p["fc.weight"].T, out=logits)
        logits += p["fc.bias"]
        logits -= logits.max(axis=1, keepdims=True)
        rows, tgt = bf["rows"], np.asarray(targets).reshape(N)
        picked = logits[rows, tgt]
        np.exp(logits, out=logits)
        ssum = logits.sum(axis=1)
        loss = float((np.log(ssum).sum() - picked.sum()) / N)
        logits *= (1.0 / (ssum * N)).astype(self.dtype)[:, None]  # logits now holds dL/dlogits
        logits[rows, tgt] -= self.dtype.type(1.0 / N)
        np.matmul(logits.T, Hflat, out=g["fc.weight"])
        np.matmul(bf["ones"], logits, out=g["fc.bias"])
        dH = bf["dH"]
        np.matmul(logits, p["fc.weight"], out=dH.reshape(N, H))

        # Backward through time; returns per-row grads w.r.t. the W_ih and W_hh pre-activations.
        dGx, dGh = getattr(self, "_bwd_" + self.cell)(T, bf, W_hh)
        shared = dGx is dGh
        dGx, dGh = dGx.reshape(N, -1), dGh.reshape(N, -1)
        ones = bf["ones"]
        np.matmul(dGh.T, Hs[:-1].reshape(N, H), out=g["rnn.weight_hh_l0"])
        np.matmul(ones, dGh, out=g["rnn.bias_hh_l0"])
        if fused:
            S = self._scatter_rows(bf, idx, dGx, bf["S"])   # (V, GH): dGx summed per token
            np.matmul(S.T, E, out=g["rnn.weight_ih_l0"])
            np.matmul(S, W_ih, out=g["embedding.weight"])
            if not shared:
                np.sum(S, axis=0, out=g["rnn.bias_ih_l0"])
        else:
            np.matmul(dGx.T, X, out=g["rnn.weight_ih_l0"])
            dX = bf["dX"]
            np.matmul(dGx, W_ih, out=dX)
            self._scatter_rows(bf, idx, dX, g["embedding.weight"])
            if not shared:
                np.matmul(ones, dGx, out=g["rnn.bias_ih_l0"])
        if shared:
            g["rnn.bias_ih_l0"][...] = g["rnn.bias_hh_l0"]
        return loss

    @staticmethod
    def _scatter_rows(bf, idx, src, out):
        """out[v] = sum of src rows whose token is v (embedding backward)."""
        oh = bf["onehot"]
        if oh is None:
            out[...] = 0
            np.add.at(out, idx, src)
            return out
        rows = bf["rows"]
        oh[idx, rows] = 1
        np.matmul(oh, src, out=out)
        oh[idx, rows] = 0
        return out

    # ---------------------------------------------------------------- LSTM (gate rows i, f, g, o)
    def _fwd_lstm(self, T, bf, W_hh_sT, b_hh):
        H = self.hidden
        A, Hs, C, TC, tmpG, tmpH = bf["A"], bf["Hs"], bf["C"], bf["TC"], bf["tmpG"], bf["tmpH"]
        matmul, mul, exp, recip, tanh = np.matmul, np.multiply, np.exp, np.reciprocal, np.tanh
        for t in range(T):
            a = A[t]                      # holds scaled pre-activations u = s * a
            matmul(Hs[t], W_hh_sT, out=tmpG)
            a += tmpG
            exp(a, out=a)
            a += 1.0
            recip(a, out=a)               # i, f, o = sigmoid; g column = sigmoid(2a)
            gg = a[:, 2 * H:3 * H]
            mul(gg, 2.0, out=gg)
            gg -= 1.0                     # g = tanh(a)
            c = C[t + 1]
            mul(a[:, H:2 * H], C[t], out=c)
            mul(a[:, :H], gg, out=tmpH)
            c += tmpH
            tc = TC[t]
            tanh(c, out=tc)
            mul(a[:, 3 * H:], tc, out=Hs[t + 1])

    def _bwd_lstm(self, T, bf, W_hh):
        H = self.hidden
        A, C, TC, dH, dA = bf["A"], bf["C"], bf["TC"], bf["dH"], bf["dA"]
        i, f, gg, o = A[..., :H], A[..., H:2 * H], A[..., 2 * H:3 * H], A[..., 3 * H:]
        # Local (flow-independent) factors for all steps at once:
        # dA = [dc*g*i(1-i), dc*c_prev*f(1-f), dc*i*(1-g^2), dh*tanh(c)*o(1-o)],  dc += dh*o*(1-tanh(c)^2)
        sub, mul = np.subtract, np.multiply
        di, df, dg, do = dA[..., :H], dA[..., H:2 * H], dA[..., 2 * H:3 * H], dA[..., 3 * H:]
        sub(1.0, i, out=di); mul(di, i, out=di); mul(di, gg, out=di)            # noqa: E702
        sub(1.0, f, out=df); mul(df, f, out=df); mul(df, C[:-1], out=df)       # noqa: E702
        mul(gg, gg, out=dg); sub(1.0, dg, out=dg); mul(dg, i, out=dg)          # noqa: E702
        sub(1.0, o, out=do); mul(do, o, out=do); mul(do, TC, out=do)           # noqa: E702
        K = TC                            # tanh(c) no longer needed: K = o * (1 - tanh(c)^2)
        mul(K, K, out=K); sub(1.0, K, out=K); mul(K, o, out=K)                 # noqa: E702
        dc, tmpH = bf["dc"], bf["tmpH"]
        dc[...] = 0
        B = dc.shape[0]
        matmul = np.matmul
        for t in range(T - 1, -1, -1):
            dh = dH[t]                    # already includes the recurrent contribution
            mul(dh, K[t], out=tmpH)
            dc += tmpH
            d = dA[t]
            d3 = d.reshape(B, 4, H)
            ifg = d3[:, :3]
            mul(ifg, dc[:, None, :], out=ifg)
            mul(d[:, 3 * H:], dh, out=d[:, 3 * H:])
            if t:
                matmul(d, W_hh, out=tmpH)
                dH[t - 1] += tmpH
                dc *= f[t]
        return dA, dA

    # ---------------------------------------------------------------- GRU (gate rows r, z, n)
    def _fwd_gru(self, T, bf, W_hh_sT, b_hh):
        H = self.hidden
        A, Hs, HPn, tmpG, tmpH = bf["A"], bf["Hs"], bf["HPn"], bf["tmpG"], bf["tmpH"]
        b_hn = b_hh[2 * H:]
        matmul, add, mul, sub, exp, recip, tanh = (np.matmul, np.add, np.multiply, np.subtract,
                                                   np.exp, np.reciprocal, np.tanh)
        for t in range(T):
            a = A[t]
            h = Hs[t]
            matmul(h, W_hh_sT, out=tmpG)
            rz = a[:, :2 * H]
            rz += tmpG[:, :2 * H]         # -(pre-activation) of r, z
            exp(rz, out=rz)
            rz += 1.0
            recip(rz, out=rz)             # r, z
            hn = HPn[t]
            add(tmpG[:, 2 * H:], b_hn, out=hn)
            n = a[:, 2 * H:]
            mul(a[:, :H], hn, out=tmpH)
            n += tmpH
            tanh(n, out=n)
            hnew = Hs[t + 1]
            sub(h, n, out=hnew)
            hnew *= a[:, H:2 * H]
            hnew += n                     # h' = n + z * (h - n)

    def _bwd_gru(self, T, bf, W_hh):
        H = self.hidden
        A, Hs, HPn, dH, dA, dXP = bf["A"], bf["Hs"], bf["HPn"], bf["dH"], bf["dA"], bf["dXP"]
        r, z, n = A[..., :H], A[..., H:2 * H], A[..., 2 * H:]
        # Every gate grad is dh times a local factor: with An = (1-z)(1-n^2),
        # d(r_pre) = dh*An*hn*r(1-r), d(z_pre) = dh*(h_prev-n)*z(1-z), d(W_hn h + b_hn) = dh*An*r,
        # d(n_pre input part) = dh*An;  dh_prev = dh*z + dA @ W_hh.
        sub, mul = np.subtract, np.multiply
        dr, dz, dn, An = dA[..., :H], dA[..., H:2 * H], dA[..., 2 * H:], bf["An"]
        sub(1.0, z, out=dz)
        mul(n, n, out=An); sub(1.0, An, out=An); mul(An, dz, out=An)          # noqa: E702
        mul(dz, z, out=dz)
        sub(1.0, r, out=dr); mul(dr, r, out=dr); mul(dr, HPn, out=dr); mul(dr, An, out=dr)  # noqa: E702
        sub(Hs[:-1], n, out=HPn)          # HPn no longer needed: reuse it for (h_prev - n)
        mul(dz, HPn, out=dz)
        mul(An, r, out=dn)
        tmpH, tmpH2 = bf["tmpH"], bf["tmpH2"]
        B = tmpH.shape[0]
        matmul = np.matmul
        for t in range(T - 1, -1, -1):
            dh = dH[t]
            d = dA[t]
            d3 = d.reshape(B, 3, H)
            mul(d3, dh[:, None, :], out=d3)
            if t:
                matmul(d, W_hh, out=tmpH)
                mul(dh, z[t], out=tmpH2)
                tmpH += tmpH2
                dH[t - 1] += tmpH
        dXP[..., :2 * H] = dA[..., :2 * H]
        np.multiply(dH, An, out=dXP[..., 2 * H:])
        return dXP, dA

    # ---------------------------------------------------------------- vanilla tanh RNN
    def _fwd_rnn(self, T, bf, W_hh_sT, b_hh):
        A, Hs = bf["A"], bf["Hs"]
        matmul, tanh = np.matmul, np.tanh
        for t in range(T):
            hn = Hs[t + 1]
            matmul(Hs[t], W_hh_sT, out=hn)
            hn += A[t]
            tanh(hn, out=hn)

    def _bwd_rnn(self, T, bf, W_hh):
        Hs, dH, dA, tmpH = bf["Hs"], bf["dH"], bf["dA"], bf["tmpH"]
        h = Hs[1:]
        np.multiply(h, h, out=dA)
        np.subtract(1.0, dA, out=dA)      # 1 - h^2
        matmul = np.matmul
        for t in range(T - 1, -1, -1):
            d = dA[t]
            d *= dH[t]
            if t:
                matmul(d, W_hh, out=tmpH)
                dH[t - 1] += tmpH
        return dA, dA

    # ---------------------------------------------------------------- Adam (torch.optim.Adam semantics)
    def _adam(self):
        b1, b2 = self.betas
        self._t += 1
        bc1 = 1.0 - b1 ** self._t
        bc2 = 1.0 - b2 ** self._t
        g, m, v, tmp, tmp2 = self._gflat, self._m, self._v, self._tmp, self._tmp2
        m *= b1                               # m = b1 m + (1-b1) g
        np.multiply(g, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2                               # v = b2 v + (1-b2) g^2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        np.sqrt(v, out=tmp)                   # denom = sqrt(v)/sqrt(bc2) + eps
        tmp *= 1.0 / np.sqrt(bc2)
        tmp += self.eps
        np.divide(m, tmp, out=tmp2)
        tmp2 *= self.lr / bc1
        self._flat -= tmp2
