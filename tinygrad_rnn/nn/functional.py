"""Stateless layer and loss functions on Tensors (torch.nn.functional's names and defaults), plus the Linear and
Embedding Functions. Imports: helpers, backend, checks, autograd, ops, kernels, tensor (no numpy: host work goes
through backend).

    import tinygrad_rnn.nn.functional as F
    loss = F.cross_entropy(logits, target)          # logits (N, C), target (N,) int64
"""

from .. import backend as B
from .. import checks
from ..autograd import Function, OuterGrad, no_grad
from ..functions import cat as _cat
from ..functions import where
from ..grads import Accumulator, rows_first
from ..helpers import broadcast_shape
from ..helpers import normalize_dim as _normalize_dim
from ..kernels import loss as fused_loss
from ..tensor import Tensor

xp = B.xp
_REDUCTIONS = ("mean", "sum", "none")


def _tensor(op, value, arg="input"):
    """The Tensor arguments of the functions here: anything else is a TypeError naming the argument."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: expected {arg} to be a Tensor, got {type(value).__name__}")
    return value


_dtype_name = B.dtype_name


# ----- Functions
class LinearFn(Function):
    """y = x @ W.T + b for x (..., in), W (out, in), b (out,). One node: dx = g @ W, db = sum of g over rows (one
    product, B.col_sums), and dW = g2.T @ x2 returned as an OuterGrad, so a layer applied at T time steps costs one
    weight product. On an embedding's output: through the table's rows (grads.rows_first)."""

    saves_output = False
    saved_inputs = Function._saved_crosswise

    def forward(self, x, w, b=None):
        # x's leading dims as one: a single (rows, in) @ (in, out) product, not one per leading index
        self.shape, self.x2, self.w = x.shape, B.reshape(x, (-1, w.shape[1])), w
        y = B.matmul_pooled(self.x2, xp.permute_dims(w, (1, 0)))  # a language model's logits: pooled
        if b is not None:
            y += b  # y is ours: add the bias in place
        return B.reshape(y, x.shape[:-1] + (w.shape[0],))

    def backward(self, g):
        needs = self.needs_input_grad
        g2 = B.reshape(g, (-1, self.w.shape[0]))
        by_rows = rows_first(g2, self.w, self.x2, self.parents[0]) if needs[0] and needs[1] else None
        if by_rows is not None:  # x is an embedding's output: through the table's rows (grads.rows_first)
            dx, dw, g2 = by_rows
        else:
            dx = B.reshape(B.matmul_pooled(g2, self.w), self.shape) if needs[0] else None
            dw = OuterGrad(g2, self.x2) if needs[1] else None
        if len(needs) == 2:
            return dx, dw
        return dx, dw, (B.col_sums(g2) if needs[2] else None)


class EmbeddingFn(Function):
    """Rows of the table W (V, E) picked by integer `indices` (...): out (..., E). backward scatter-adds the
    rows of the gradient into a (V, E) table (repeated indices accumulate); the padding row gets none.
    rows_of = (the flat indices, V): what a linear map reading the output may take its gradients through
    (grads.rows_first); the RowsGrads it sends then give the table's gradient as one small product each (lazy_grad:
    the engine hands them over unsummed)."""

    saves_inputs = saves_output = False
    lazy_grad = True

    def forward(self, w, indices=None, padding_idx=None):
        self.flat = B.reshape(indices, (-1,))
        self.num, self.padding_idx = w.shape[0], padding_idx
        self.rows_of = (self.flat, self.num)
        return B.reshape(B.take_rows(w, self.flat), tuple(indices.shape) + (w.shape[1],))

    def backward(self, g):
        if isinstance(g, Accumulator):
            rows = g.only_rows(self.flat)
            if rows is not None:  # every gradient came from linear maps through the table's rows
                out = rows[0].table_grad()
                for r in rows[1:]:
                    out += r.table_grad()
                if self.padding_idx is not None:
                    out[self.padding_idx] = 0
                return out
            g = g.value()
        g2 = B.reshape(g, (-1, g.shape[-1]))
        if self.padding_idx is not None:
            g2 = xp.where(B.reshape(self.flat == self.padding_idx, (-1, 1)), 0.0, g2)
        return B.embedding_backward(self.flat, g2, self.num)


# ----- layers
def linear(input, weight, bias=None):
    """y = input @ weight.T + bias. input (..., in), weight (out, in), bias (out,) -> (..., out)."""
    _tensor("linear", input)
    _tensor("linear", weight, "weight")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: expected input with last dimension {weight.shape[1]}, got shape {input.shape}")
    if input.dtype != weight.dtype:
        raise TypeError(f"linear: input dtype {_dtype_name(input.dtype)} does not match weight dtype "
                        f"{_dtype_name(weight.dtype)}")
    return LinearFn.apply(input, weight) if bias is None else LinearFn.apply(input, weight, bias)


def embedding(input, weight, padding_idx=None):
    """Rows of `weight` (V, E) at the integer indices `input` (...) -> (..., E). Indices outside [0, V) raise."""
    idx = input if isinstance(input, Tensor) else Tensor._as_tensor(input)
    if B.is_floating(idx.dtype) or idx.dtype == B.bool_:
        raise TypeError(f"embedding: expected integer indices, got dtype {_dtype_name(idx.dtype)}")
    num = weight.shape[0]
    if idx.numel():
        lo, hi = B.min_max(idx.array)
        if lo < 0 or hi >= num:
            bad = lo if lo < 0 else hi
            raise ValueError(f"embedding: index {bad} is out of range for a table of {num} rows")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    return EmbeddingFn.apply(weight, indices=idx.array, padding_idx=padding_idx)


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: zero each element with probability p and scale the rest by 1/(1-p). The mask is drawn on
    the host (tr.manual_seed gives the same mask on every backend). Identity when not training or p == 0;
    `inplace` multiplies input itself (input.mul_), as PyTorch."""
    _check_p("dropout", p)
    _tensor("dropout", input)
    if not training or p == 0:
        return input
    if p == 1:
        mask = Tensor._wrap(B.zeros(input.shape, input.dtype), False)
    else:
        keep = B.host_rng().random(input.shape) < 1.0 - p
        mask = Tensor._wrap(B.asarray(keep.astype(B.host_dtype(input.dtype)) * (1.0 / (1.0 - p)), dtype=input.dtype),
                            False)
    return input.mul_(mask) if inplace else input * mask


def _check_p(name, p):
    return checks.probability(name, "dropout probability", p)


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative amounts in constant mode, crop) the last len(pad) // 2 dims. `pad` lists (left, right)
    pairs from the last dim backwards, as PyTorch: (1, 2) pads the last dim, (1, 2, 0, 3) the last two.
    mode "constant" (fill `value`, default 0), "reflect" (mirror without the edge), "replicate" (repeat the edge)
    or "circular" (wrap around); the non-constant modes need a leading dim that is not padded.
        F.pad(x, (0, 1))    # (N, T) -> (N, T + 1)"""
    input = _tensor("pad", input)
    pad = tuple(pad)
    if len(pad) % 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pad):
        raise ValueError(f"pad: expected an even number of ints, got {pad}")
    k = len(pad) // 2
    if k > input.ndim:
        raise ValueError(f"pad: padding length {len(pad)} is too large for a tensor of {input.ndim} dims "
                         f"(at most {2 * input.ndim})")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if mode != "constant" and value is not None:
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
    if mode != "constant" and k >= input.ndim:
        raise ValueError(f"pad: {mode} padding of {k} dims needs an input of more than {k} dims, got shape "
                         f"{input.shape}")
    out = input
    for i in range(k):
        d = input.ndim - 1 - i
        left, right = pad[2 * i], pad[2 * i + 1]
        if left or right:
            out = _pad_dim(out, d, left, right, mode, 0.0 if value is None else value)
    return out


def _pad_dim(x, d, left, right, mode, value):
    n = x.shape[d]
    pre = (slice(None),) * d
    if mode == "constant":
        if left < 0 or right < 0:  # crop first
            x = x[pre + (slice(max(-left, 0), n - max(-right, 0)),)]
            left, right = max(left, 0), max(right, 0)
        parts = []
        for size in (left, right):
            shape = x.shape[:d] + (size,) + x.shape[d + 1:]
            parts.append(Tensor._wrap(B.full(shape, value, x.dtype), False) if size else None)
        pieces = [t for t in (parts[0], x, parts[1]) if t is not None]
        return _cat(pieces, d) if len(pieces) > 1 else x
    if min(left, right) < 0:
        raise ValueError(f"pad: negative padding is only supported in constant mode, got ({left}, {right})")
    if mode == "reflect" and (left >= n or right >= n):
        raise ValueError(f"pad: reflect padding ({left}, {right}) must be smaller than the padded dim of size {n}")
    if mode == "circular" and (left > n or right > n):
        raise ValueError(f"pad: circular padding ({left}, {right}) must be at most the padded dim of size {n}")
    i = B.np.arange(-left, n + right)
    if mode == "replicate":
        i = B.np.clip(i, 0, n - 1)
    elif mode == "circular":
        i = i % n
    else:  # reflect: ... 2 1 | 0 1 2 ... n-1 | n-2 n-3 ...
        i = B.np.abs(i)
        i = B.np.where(i > n - 1, 2 * (n - 1) - i, i)
    return x[pre + (B.asarray(i),)]


def one_hot(tensor, num_classes=-1):
    """int64 (..., num_classes) with a 1 at each index of the integer `tensor` (...); num_classes=-1 takes max + 1."""
    t = _tensor("one_hot", tensor, "tensor")
    if B.is_floating(t.dtype) or t.dtype == B.bool_:
        raise TypeError(f"one_hot: expected an integer (index) tensor, got dtype {_dtype_name(t.dtype)}")
    lo, hi = B.min_max(t.array) if t.numel() else (0, -1)
    if num_classes == -1:
        if not t.numel():
            raise ValueError("one_hot: cannot infer the number of classes from an empty tensor; pass num_classes")
        num_classes = hi + 1
    if lo < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {lo}")
    if hi >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes={num_classes}, got {hi}")
    classes = B.reshape(B.arange(num_classes, dtype=t.dtype), (1,) * t.ndim + (num_classes,))
    return Tensor._wrap(xp.astype(xp.expand_dims(t.array, axis=-1) == classes, B.int64), False)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(|x1|, eps) * max(|x2|, eps)) along `dim`, x1 and x2 broadcast together. As PyTorch (2.x),
    each tensor is divided by its own norm clamped to eps, and the clamp does not enter the gradient."""
    x1, x2 = _tensor("cosine_similarity", x1, "x1")._broadcasted(_tensor("cosine_similarity", x2, "x2"))
    dim = _normalize_dim(dim, x1.ndim, "cosine_similarity")

    def unit(x):
        ss = (x * x).sum(dim, keepdims=True)
        nz = ss > 0
        norm = where(nz, where(nz, ss, 1.0).sqrt(), 0.0)  # the norm, with gradient 0 (not NaN) at a zero vector
        with no_grad():
            norm.clamp_(min=eps)
        return x / norm

    return (unit(x1) * unit(x2)).sum(dim)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing `normalized_shape` dims (biased variance)."""
    _tensor("layer_norm", input)
    ns = checks.sizes("layer_norm", (normalized_shape,), "normalized_shape")
    checks.reals("layer_norm", eps=eps)
    if input.shape[input.ndim - len(ns):] != ns or input.ndim < len(ns):
        raise ValueError(f"layer_norm: expected input with trailing shape {ns}, got shape {input.shape}")
    axes = tuple(range(input.ndim - len(ns), input.ndim))
    d = input - input.mean(axes, keepdims=True)
    y = d / ((d * d).mean(axes, keepdims=True) + eps).sqrt()
    if weight is not None:
        y = y * weight
    return y if bias is None else y + bias


# ----- activations
def relu(input, inplace=False):
    input = _tensor("relu", input)
    return input.relu_() if inplace else input.relu()


def relu_(input):
    return _tensor("relu_", input).relu_()


def tanh(input):
    return _tensor("tanh", input).tanh()


def sigmoid(input):
    return _tensor("sigmoid", input).sigmoid()


def log_softmax(input, dim=None, dtype=None):
    """log(softmax(input)) along `dim` (required), one fused node; stable at any magnitude."""
    x = _tensor("log_softmax", input) if dtype is None else _tensor("log_softmax", input).to(dtype)
    return fused_loss.LogSoftmax.apply(x, axis=x._softmax_dim("log_softmax", dim, None))


def softmax(input, dim=None, dtype=None):
    x = _tensor("softmax", input) if dtype is None else _tensor("softmax", input).to(dtype)
    return fused_loss.Softmax.apply(x, axis=x._softmax_dim("softmax", dim, None))


# ----- losses
def _check_reduction(name, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _class_layout(name, input, target, weight, ignore_index):
    """Validate and flatten (N, C, d1, ...) / (C,) inputs to (M, C) with targets (M,); returns the flat input,
    the target array, the weight array (or None) and the shape of an unreduced result."""
    if not B.is_floating(_tensor(name, input).dtype):
        raise TypeError(f"{name}: expected floating point input, got dtype {_dtype_name(input.dtype)}; use .float()")
    if not isinstance(target, Tensor):
        target = Tensor._as_tensor(target)
    if B.is_floating(target.dtype) or target.dtype == B.bool_:
        raise TypeError(f"{name}: expected integer class indices as target, got dtype {_dtype_name(target.dtype)} "
                        "(class-probability targets are not supported)")
    if input.ndim == 0:
        raise ValueError(f"{name}: expected input of shape (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor")
    checks.size(name, "ignore_index", ignore_index, minimum=None)
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    expected = () if input.ndim == 1 else (input.shape[0],) + input.shape[2:]
    if target.shape != expected:
        raise ValueError(f"{name}: expected target of shape {expected} for input of shape {input.shape}, "
                         f"got shape {target.shape}")
    t = target.array
    lo, hi = B.min_max(t) if target.numel() else (0, 0)
    if lo < 0 or hi >= c:  # out of range, or ignore_index: find the first bad one
        bad = (t < 0) | (t >= c)
        bad = bad & (t != ignore_index)
        if bool(B.to_host(xp.any(bad))):
            first = int(B.to_host(xp.max(xp.where(bad, t, -(2**62)))))
            raise ValueError(f"{name}: target index {first} is out of range for {c} classes")
    if input.ndim == 1:
        x = input.reshape(1, c)
    elif input.ndim == 2:
        x = input
    else:
        x = input.permute((0,) + tuple(range(2, input.ndim)) + (1,)).reshape(-1, c)
    w = None
    if weight is not None:
        w = weight.array if isinstance(weight, Tensor) else B.asarray(weight)
        if tuple(w.shape) != (c,):
            raise ValueError(f"{name}: expected weight of shape ({c},), got shape {tuple(w.shape)}")
        w = xp.astype(w, input.dtype)
    return x, B.reshape(t, (-1,)), w, expected


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits and integer class indices (log-softmax + NLL in one fused node).

    input: (N, C), (C,) or (N, C, d1, ...) logits; target: (N,), () or (N, d1, ...) int64 in [0, C) or ==
    ignore_index; weight: (C,) class weights. reduction "mean" (weighted mean over non-ignored targets), "sum" or
    "none" (shape of target). label_smoothing e mixes the target with the uniform distribution, as PyTorch."""
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    x, t, w, out_shape = _class_layout("cross_entropy", input, target, weight, ignore_index)
    out = fused_loss.CrossEntropy.apply(x, target=t, weight=w, ignore_index=ignore_index, reduction=reduction,
                                        label_smoothing=float(label_smoothing))
    return out.reshape(out_shape) if reduction == "none" else out


def cross_entropy_composed(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """The twin of cross_entropy made of primitive ops (log_softmax composed, then nll_loss); same arguments and
    values. Kept as the readable specification the fused version is tested against."""
    _check_reduction("cross_entropy", reduction)
    x, t, w, out_shape = _class_layout("cross_entropy", input, target, weight, ignore_index)
    logp = x.log_softmax(-1)
    nll = _nll_rows(logp, t, w, ignore_index)
    loss = nll
    if label_smoothing:
        c = x.shape[1]
        wl = logp if w is None else logp * Tensor._wrap(w, False)
        valid = Tensor._wrap(xp.astype(t != ignore_index, x.dtype), False)
        loss = nll * (1.0 - label_smoothing) + (-wl.sum(1)) * valid * (label_smoothing / c)
    return _reduce_rows(loss, t, w, ignore_index, reduction, out_shape)


def _nll_rows(logp, t, w, ignore_index):
    """-w[t_i] * logp[i, t_i] for every row (0 where t_i == ignore_index), built from primitives."""
    m, c = logp.shape
    valid = B.reshape(t != ignore_index, (m, 1))
    onehot = (B.reshape(t, (m, 1)) == B.reshape(B.arange(c, dtype=t.dtype), (1, c))) & valid
    picked = where(Tensor._wrap(onehot, False), logp, 0.0)
    if w is not None:
        picked = picked * Tensor._wrap(B.reshape(w, (1, c)), False)
    return -picked.sum(1)


def _reduce_rows(loss, t, w, ignore_index, reduction, out_shape):
    if reduction == "none":
        return loss.reshape(out_shape)
    if reduction == "sum":
        return loss.sum()
    valid = t != ignore_index
    if w is None:
        count = xp.sum(xp.astype(valid, loss.dtype))
    else:
        count = xp.sum(xp.where(valid, xp.take(w, xp.where(valid, t, 0), axis=0), 0.0))
    return loss.sum() * Tensor._wrap(fused_loss._mean(xp.ones_like(count), count), False)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities `input` ((N, C), (C,) or (N, C, d1, ...)) at integer `target`;
    reductions and weights as cross_entropy (nll_loss(log_softmax(x, 1), t) == cross_entropy(x, t)). One fused node;
    its twin of primitives is nll_loss_composed."""
    _check_reduction("nll_loss", reduction)
    x, t, w, out_shape = _class_layout("nll_loss", input, target, weight, ignore_index)
    out = fused_loss.NLLLoss.apply(x, target=t, weight=w, ignore_index=ignore_index, reduction=reduction)
    return out.reshape(out_shape) if reduction == "none" else out


def nll_loss_composed(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """The twin of nll_loss made of primitive ops: the readable specification it is tested against."""
    _check_reduction("nll_loss", reduction)
    x, t, w, out_shape = _class_layout("nll_loss", input, target, weight, ignore_index)
    return _reduce_rows(_nll_rows(x, t, w, ignore_index), t, w, ignore_index, reduction, out_shape)


def mse_loss(input, target, reduction="mean"):
    """Mean squared error (x - y)^2 of two tensors of the same shape (no silent broadcasting, unlike PyTorch)."""
    _check_reduction("mse_loss", reduction)
    _tensor("mse_loss", input)
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=input.dtype)
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: expected target of shape {input.shape} (same as input), got shape {target.shape}")
    d = input - target
    sq = d * d
    return sq if reduction == "none" else (sq.sum() if reduction == "sum" else sq.mean())


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable node. input, target: same shape, float; weight broadcasts to
    input; pos_weight (C,) weights the positive term along the last dim, as PyTorch."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    _tensor("binary_cross_entropy_with_logits", input)
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=input.dtype)
    if not B.is_floating(target.dtype):
        raise TypeError("binary_cross_entropy_with_logits: expected a float target, got dtype "
                        f"{_dtype_name(target.dtype)}")
    if input.shape != target.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: expected target of shape {input.shape} (same as input), "
                         f"got shape {target.shape}")
    if target.dtype != input.dtype:
        target = target.astype(input.dtype)

    def const(v, arg):
        if v is None:
            return None
        a = v.array if isinstance(v, Tensor) else B.asarray(v)
        try:
            fits = broadcast_shape(tuple(a.shape), input.shape) == input.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"binary_cross_entropy_with_logits: {arg} of shape {tuple(a.shape)} does not broadcast to "
                             f"the input's shape {input.shape}")
        return xp.broadcast_to(xp.astype(a, input.dtype), input.shape)

    weight, pos_weight = const(weight, "weight"), const(pos_weight, "pos_weight")
    return fused_loss.BCEWithLogits.apply(input, target, weight=weight, pos_weight=pos_weight,
                                          reduction=reduction)


def __getattr__(name):  # a name we lack: an AttributeError that names the absent PyTorch feature (absent.py)
    from ..absent import missing as _missing

    raise _missing(__name__, name)
