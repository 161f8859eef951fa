"""The twins of the fused recurrent Functions (fused.py), made of primitive ops: the same maths one graph node per
gate, each gate tagged with its `kind` so the visualizer can draw it. tr.use_primitives() makes the layers build
these; the tests check each fused step against its twin on values and every gradient. Imports: backend, autograd,
ops."""

from .. import backend as B
from .. import ops
from ..autograd import tag as _tag_ctx

xp = B.xp


def _T(w):
    return ops.Permute.apply(w, axes=(1, 0))


def _cols(a, start, stop):
    return ops.GetItem.apply(a, idx=(slice(None), slice(start, stop)))


def _add(a, b):
    if a.shape != b.shape:
        b = ops.Expand.apply(b, shape=a.shape)
    return ops.Add.apply(a, b)


def _gate(name, fn, a):
    with _tag_ctx(kind=name):
        return fn.apply(a)


def _mask_twin(new, old, mask):
    if mask is None:
        return new
    return ops.Where.apply(new, old, cond=xp.broadcast_to(mask, new.shape))


def _twin_pick(gx, t):
    return gx if t is None else ops.GetItem.apply(gx, idx=(t, Ellipsis))


def linear_twin(x, w, b_ih=None, b_hh=None, hh_rows=None):
    shape = x.shape
    y = ops.MatMul.apply(ops.Reshape.apply(x, shape=(-1, shape[-1])), _T(w))
    if b_ih is not None:
        y = _add(y, b_ih)
    if b_hh is not None:
        if hh_rows is None or hh_rows == b_hh.shape[0]:
            y = _add(y, b_hh)
        else:  # GRU: only the r and z rows of b_hh are outside r * (...)
            head = _add(_cols(y, 0, hh_rows), ops.GetItem.apply(b_hh, idx=(slice(0, hh_rows),)))
            y = ops.Concat.apply(head, _cols(y, hh_rows, w.shape[0]), axis=1)
    return ops.Reshape.apply(y, shape=tuple(shape[:-1]) + (w.shape[0],))


def rnn_twin(gx, h, w_hh, t=None, mask=None, nonlinearity="tanh"):
    a = ops.Add.apply(_twin_pick(gx, t), ops.MatMul.apply(h, _T(w_hh)))
    y = _gate("h", ops.Relu if nonlinearity == "relu" else ops.Tanh, a)
    return _mask_twin(y, h, mask)


def lstm_twin(gx, s, w_hh, w_hr=None, t=None, mask=None):
    P, H = w_hh.shape[1], w_hh.shape[0] // 4
    h, c = _cols(s, 0, P), _cols(s, P, P + H)
    a = ops.Add.apply(_twin_pick(gx, t), ops.MatMul.apply(h, _T(w_hh)))
    i = _gate("i", ops.Sigmoid, _cols(a, 0, H))
    f = _gate("f", ops.Sigmoid, _cols(a, H, 2 * H))
    g = _gate("g", ops.Tanh, _cols(a, 2 * H, 3 * H))
    o = _gate("o", ops.Sigmoid, _cols(a, 3 * H, 4 * H))
    with _tag_ctx(kind="c"):
        c2 = ops.Add.apply(ops.Mul.apply(f, c), ops.Mul.apply(i, g))
    with _tag_ctx(kind="h"):
        h2 = ops.Mul.apply(o, ops.Tanh.apply(c2))
        if w_hr is not None:
            h2 = ops.MatMul.apply(h2, _T(w_hr))
    return _mask_twin(ops.Concat.apply(h2, c2, axis=1), s, mask)


def gru_twin(gx, h, w_hh, b_hn=None, t=None, mask=None):
    H = h.shape[1]
    x = _twin_pick(gx, t)
    q = ops.MatMul.apply(h, _T(w_hh))
    qn = _cols(q, 2 * H, 3 * H)
    if b_hn is not None:
        qn = _add(qn, b_hn)
    r = _gate("r", ops.Sigmoid, ops.Add.apply(_cols(x, 0, H), _cols(q, 0, H)))
    z = _gate("z", ops.Sigmoid, ops.Add.apply(_cols(x, H, 2 * H), _cols(q, H, 2 * H)))
    n = _gate("n", ops.Tanh, ops.Add.apply(_cols(x, 2 * H, 3 * H), ops.Mul.apply(r, qn)))
    with _tag_ctx(kind="h"):
        h2 = ops.Add.apply(n, ops.Mul.apply(z, ops.Sub.apply(h, n)))
    return _mask_twin(h2, h, mask)


def gru_before_twin(gx, h, w_rz, w_n, t=None, mask=None):
    H = h.shape[1]
    x = _twin_pick(gx, t)
    q = ops.MatMul.apply(h, _T(w_rz))
    r = _gate("r", ops.Sigmoid, ops.Add.apply(_cols(x, 0, H), _cols(q, 0, H)))
    z = _gate("z", ops.Sigmoid, ops.Add.apply(_cols(x, H, 2 * H), _cols(q, H, 2 * H)))
    n = _gate("n", ops.Tanh, ops.Add.apply(_cols(x, 2 * H, 3 * H), ops.MatMul.apply(ops.Mul.apply(r, h), _T(w_n))))
    with _tag_ctx(kind="h"):
        h2 = ops.Add.apply(n, ops.Mul.apply(z, ops.Sub.apply(h, n)))
    return _mask_twin(h2, h, mask)


def stack_twin(states, width=None, directions=1, valid=None):
    T = len(states) // directions
    parts = []
    for d in range(directions):
        rows = []
        for s in states[d * T:(d + 1) * T]:
            if s.shape[1] != width:
                s = _cols(s, 0, width)
            rows.append(ops.Reshape.apply(s, shape=(1,) + tuple(s.shape)))
        parts.append(ops.Concat.apply(*rows, axis=0) if len(rows) > 1 else rows[0])
    y = parts[0] if directions == 1 else ops.Concat.apply(*parts, axis=2)
    if valid is None:
        return y
    return ops.Where.apply(y, ops.Sub.apply(y, y), cond=xp.broadcast_to(valid, y.shape))
