"""Fused Functions for the output end of a network: log-softmax, softmax, cross-entropy and BCE-with-logits,
each one graph node with a derived backward. Their twins made of primitives live in nn/functional.py and the
tests check that both agree in float64. Imports: backend, autograd, ops."""

from .. import backend as B
from ..autograd import Function
from ..ops import stable_sigmoid

xp = B.xp


def _sums(a, axis):
    """Sums along `axis`, kept as a length-1 axis; the rows of a 2-D array as one product (B.row_sums: 5x quicker
    on NumPy for rows of a few dozen classes, 4x for 10,000)."""
    if a.ndim == 2 and axis in (1, -1):
        return B.reshape(B.row_sums(a), (a.shape[0], 1))
    return xp.sum(a, axis=axis, keepdims=True)


def log_softmax_array(x, axis):
    """log(softmax(x)) along `axis`, exp taken only of non-positive numbers (no overflow at any logit)."""
    z = x - xp.max(x, axis=axis, keepdims=True)
    return z - xp.log(_sums(xp.exp(z), axis))


class LogSoftmax(Function):
    """y = x - logsumexp(x). backward: dx = g - softmax(x) * sum(g) (sums along `axis`)."""

    def forward(self, x, axis=-1):
        self.axis = axis
        self.y = log_softmax_array(x, axis)
        return self.y

    def backward(self, g):
        dx = xp.exp(self.y)  # one (M, C) array: softmax, scaled and subtracted in place
        dx *= _sums(g, self.axis)
        return B.sub(g, dx, out=dx)


class Softmax(Function):
    """y = softmax(x). backward: dx = y * (g - sum(g * y))."""

    def forward(self, x, axis=-1):
        self.axis = axis
        self.y = xp.exp(log_softmax_array(x, axis))
        return self.y

    def backward(self, g):
        return self.y * (g - _sums(g * self.y, self.axis))


def _mean(total, count):
    """total / count, NaN where count == 0 (PyTorch's result for an all-ignored batch), with no warning."""
    empty = count == 0
    return xp.where(empty, xp.nan, total / xp.where(empty, 1.0, count))


def _reduced(fn, loss, w_t, reduction):
    """Per-row losses (M,) reduced as PyTorch's class losses: "none", "sum", or "mean" = sum / sum of the rows'
    weights w_t; keeps on fn what backward needs (reduction, the mean's count)."""
    fn.reduction = reduction
    if reduction == "none":
        return loss
    total = xp.sum(loss)
    if reduction == "sum":
        return total
    fn.count = xp.sum(w_t)
    return _mean(total, fn.count)


class NLLLoss(Function):
    """Negative log-likelihood of log-probabilities x (M, C) at class indices `target` (M,), as
    torch.nn.functional.nll_loss: l_i = -w[t_i] x[i, t_i], 0 where t_i == ignore_index; "mean" divides sum(l) by
    sum_i v_i w[t_i] (v_i = [t_i != ignore]), "sum" sums, "none" returns l (M,).
    backward: dx[i, t_i] = -w[t_i] * g_i (g / count for "mean"), 0 elsewhere: one (M, C) array, one scatter.
    Its twin of primitives is nn.functional's _nll_rows + _reduce_rows."""

    def forward(self, x, target=None, weight=None, ignore_index=-100, reduction="mean"):
        m, c = x.shape
        valid = target != ignore_index
        safe = xp.where(valid, target, xp.zeros_like(target))
        self.idx = (B.arange(m, dtype=target.dtype), safe)
        w_t = xp.astype(valid, x.dtype) if weight is None else xp.where(valid, xp.take(weight, safe, axis=0), 0.0)
        self.shape, self.w_t = x.shape, w_t
        return _reduced(self, -w_t * B.getitem(x, self.idx), w_t, reduction)

    def backward(self, g):
        if self.reduction == "mean":
            g = _mean(g, self.count)
        return B.index_add(self.shape, self.idx, -self.w_t * g)


class CrossEntropy(Function):
    """Cross-entropy of logits x (M, C) against class indices `target` (M,), as torch.nn.functional.cross_entropy.

    With p = log_softmax(x), w the class weights (ones if None), e = label_smoothing and v_i = [t_i != ignore]:
        l_i = v_i * ((1 - e) * w[t_i] * -p[i, t_i] + (e / C) * sum_c w[c] * -p[i, c])
    reduction "mean" divides sum(l) by sum_i v_i w[t_i]; "sum" sums; "none" returns l (M,).
    Derivation of the backward, with s = softmax(x_i) and W = sum_c w[c]:
        d(-p[i, t])/dx_i = s - onehot(t)        d(-sum_c w[c] p[i, c])/dx_i = W s - w
        dl_i/dx_i = v_i * (((1 - e) w[t_i] + (e / C) W) s - (1 - e) w[t_i] onehot(t_i) - (e / C) w)
    """

    plain = B.NAME == "numpy"  # _forward_plain's NumPy indexing for the common case

    def forward(self, x, target=None, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        m, c = x.shape
        self.ez = None
        if self.plain and weight is None and not label_smoothing and reduction != "none" and m and (
                (ignore_index < 0 and target.min() >= 0) or bool((target != ignore_index).all())):
            return self._forward_plain(x, target, reduction)
        logp = log_softmax_array(x, 1)
        valid = target != ignore_index
        classes = B.reshape(B.arange(c, dtype=target.dtype), (1, c))
        onehot = (B.reshape(target, (m, 1)) == classes) & B.reshape(valid, (m, 1))
        picked = xp.sum(xp.where(onehot, logp, 0.0), axis=1)
        if weight is None:
            w_t = xp.astype(valid, x.dtype)
        else:
            w_t = xp.sum(xp.where(onehot, B.reshape(weight, (1, c)), 0.0), axis=1)
        loss = -w_t * picked
        e = label_smoothing
        if e:
            wl = logp if weight is None else logp * B.reshape(weight, (1, c))
            smooth = xp.where(valid, -xp.sum(wl, axis=1), 0.0)
            loss = (1.0 - e) * loss + (e / c) * smooth
        self.logp, self.onehot, self.valid, self.w_t, self.weight, self.e = logp, onehot, valid, w_t, weight, e
        return _reduced(self, loss, w_t, reduction)

    def _forward_plain(self, x, target, reduction):
        """NumPy, no weights, smoothing or ignored rows (a language model's loss): one array exp(x - max) and its row
        sums, kept for backward (which normalises them into the softmax), instead of log-probabilities, a one-hot
        mask and a second exp."""
        m = x.shape[0]
        # z (and dx in backward) in arrays nobody holds any more (B.reusable_empty): fresh ones of a language model's
        # logits size are page-faulted in again on every step
        z = B.np.subtract(x, x.max(axis=1, keepdims=True), out=B.reusable_empty(x.shape, x.dtype))
        rows = B.np.arange(m)
        picked = z[rows, target]
        B.np.exp(z, out=z)
        ssum = B.row_sums(z)
        total = B.np.log(ssum).sum() - picked.sum()
        self.ez, self.ssum, self.rows, self.target, self.reduction = z, ssum, rows, target, reduction
        return B.np.asarray(total / m if reduction == "mean" else total, dtype=x.dtype)

    def backward(self, g):
        if self.ez is not None:  # d(mean of -log p[i, t_i])/dx = (softmax - onehot(t)) / m
            scale = g / self.ez.shape[0] if self.reduction == "mean" else g
            ez = self.ez  # softmax = exp(z) / ssum, normalised here: one pass
            dx = B.np.multiply(ez, (scale / self.ssum)[:, None], out=B.reusable_empty(ez.shape, ez.dtype))
            dx[self.rows, self.target] -= scale
            return dx
        s = xp.exp(self.logp)
        m, c = s.shape
        e, w = self.e, self.weight
        onehot = xp.astype(self.onehot, s.dtype)
        if w is not None:
            onehot = onehot * B.reshape(w, (1, c))
        if e:
            big_w = float(c) if w is None else xp.sum(w)
            a = (1.0 - e) * self.w_t + (e / c) * big_w * xp.astype(self.valid, s.dtype)
            smooth = (e / c) * B.reshape(xp.astype(self.valid, s.dtype), (m, 1))
            if w is not None:
                smooth = smooth * B.reshape(w, (1, c))
            dx = B.reshape(a, (m, 1)) * s - (1.0 - e) * onehot - smooth
        else:
            dx = B.reshape(self.w_t, (m, 1)) * s - onehot
        if self.reduction == "none":
            return dx * B.reshape(g, (m, 1))
        if self.reduction == "mean":
            g = _mean(g, self.count)
        return dx * g


class BCEWithLogits(Function):
    """Binary cross-entropy on logits x and targets t (same shape), stable at any magnitude of x:
        sp = softplus(-x) = log1p(exp(-|x|)) + max(-x, 0)          (= -log sigmoid(x))
        L  = 1 + (pos_weight - 1) * t                               (1 without pos_weight)
        l  = weight * ((1 - t) * x + L * sp)
    backward: dl/dx = weight * ((1 - t) - L * sigmoid(-x)),  dl/dt = weight * (-x + (pos_weight - 1) * sp).
    `weight` and `pos_weight` are constant arrays already broadcast to x's shape."""

    def forward(self, x, t, weight=None, pos_weight=None, reduction="mean"):
        sp = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0.0)
        big_l = 1.0 if pos_weight is None else 1.0 + (pos_weight - 1.0) * t
        loss = (1.0 - t) * x + big_l * sp
        if weight is not None:
            loss = loss * weight
        self.x, self.t, self.sp, self.big_l, self.weight, self.pos_weight = x, t, sp, big_l, weight, pos_weight
        self.reduction = reduction
        if reduction == "none":
            return loss
        total = xp.sum(loss)
        return total if reduction == "sum" else total / loss.size

    def backward(self, g):
        if self.reduction == "mean":
            g = g / self.x.size
        if self.weight is not None:
            g = g * self.weight
        nx, nt = self.needs_input_grad
        dx = g * ((1.0 - self.t) - self.big_l * stable_sigmoid(-self.x)) if nx else None
        dt = None
        if nt:
            dt = -self.x if self.pos_weight is None else -self.x + (self.pos_weight - 1.0) * self.sp
            dt = g * dt
        return dx, dt
