"""Every differentiable op: float64 gradcheck and NumPy forward values from one table, over broadcasting pairs,
0-d, size-1 and transposed inputs; Hypothesis properties on random shapes; float32 stability at +-1e4.
Runs on every backend (also TINYGRAD_RNN_GPU=strict)."""

from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import tinygrad_rnn as tr
from tinygrad_rnn import ops
from tinygrad_rnn.autograd import Function, topological_order

# The public op surface: Tensor methods and dunders that compute, and the free functions. test_op_list_is_complete
# rebuilds it from the Tensor class, so a new method without a gradcheck case fails the suite.
OPS = [
    "add", "radd", "sub", "rsub", "mul", "rmul", "truediv", "rtruediv", "pow", "rpow", "neg", "matmul", "rmatmul",
    "exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt", "maximum", "minimum", "clip",
    "sum", "mean", "var", "max", "min",
    "reshape", "permute", "transpose", "T", "unsqueeze", "squeeze", "flatten", "expand", "getitem",
    "cat", "stack", "split", "chunk", "where", "softmax", "log_softmax", "logsumexp", "astype",
    "std", "amax", "amin", "gather", "scatter_add", "bmm", "einsum", "t", "repeat", "narrow", "select", "unbind",
    "tril", "triu", "masked_fill", "masked_select", "sort", "topk", "expand_as", "cumsum", "clone",
]
# In-place ops (test_inplace.py has their semantics): each case writes into a non-leaf copy of an input.
OPS += ["unsqueeze_", "squeeze_", "transpose_", "t_"]  # in-place shape changes
OPS += ["setitem", "add_", "sub_", "mul_", "div_", "clamp_", "relu_", "copy_", "fill_", "zero_", "masked_fill_", "iadd",
        "isub", "imul", "itruediv"]
ALIASES = {"clamp": "clip", "view": "reshape", "to": "astype", "float": "astype", "double": "astype", "concat": "cat",
           "type_as": "astype", "type": "astype", "swapaxes": "transpose", "view_as": "reshape",
           "div": "truediv", "clip_": "clamp_"}
NOT_DIFFERENTIABLE = {"shape", "ndim", "dtype", "is_leaf", "size", "numel", "numpy", "item", "tolist", "backward",
                      "retain_grad", "detach", "requires_grad_", "long", "argmax", "array", "requires_grad", "grad",
                      "grad_fn", "argmin", "argsort", "device", "is_cuda", "dim", "nelement", "new_empty", "new_full",
                      "new_ones", "new_zeros", "new_tensor", "cpu", "cuda", "contiguous", "int", "index", "data",
                      "uniform_", "normal_", "eq", "ne", "lt", "le", "gt", "ge", "and", "rand", "or", "ror", "xor",
                      "rxor", "invert"}
TENSOR_PLUMBING = {"bool", "len", "array_ufunc", "slots", "weakref", "module"}

Case = namedtuple("Case", "op id fn ref specs tol", defaults=(None,))


# ----- inputs: a spec is a shape (standard normal), or ("pos", shape) for (0.5, 2), ("t", shape) for a transposed,
# non-contiguous array of that shape, ("far", shape) for values spread out (no near-ties, away from 0).
def make_host(spec, rng):
    kind, shape = (spec[0], spec[1]) if spec and isinstance(spec[0], str) else ("n", tuple(spec))
    if kind == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "t":
        return rng.standard_normal(shape[::-1]).T
    if kind == "far":
        n = int(np.prod(shape))
        vals = (np.arange(n) - n / 2 + 0.5) * 0.37 + 0.05
        return rng.permutation(vals).reshape(shape)
    return rng.standard_normal(shape)


def P(*shape):
    return ("pos", shape)


def TR(*shape):
    return ("t", shape)


def FAR(*shape):
    return ("far", shape)


def sigmoid_np(x):
    return 1.0 / (1.0 + np.exp(-x))


def logsumexp_np(x, axis, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax_np(x, axis):
    return x - logsumexp_np(x, axis, keepdims=True)


def scatter_add_np(a, dim, index, src):
    out = a.copy()
    for pos in np.ndindex(*index.shape):
        target = list(pos)
        target[dim] = index[pos]
        out[tuple(target)] += src[pos]
    return out


COND = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
IDX2D = np.array([[0, 2], [2, 2]])
GIDX = np.array([[0, 3, 3], [1, 1, 0], [2, 0, 2]])  # repeats, for gather/scatter_add along dim 1 of (3, 4)
EINSUM = [("bij,bjk->bik", (2, 3, 4), (2, 4, 5)), ("bqd,bkd->bqk", (2, 3, 4), (2, 5, 4)), ("ij,jk->ik", (3, 4), (4, 2)),
          ("bi,bij->bj", (2, 3), (2, 3, 4)), ("ij->j", (3, 4)), ("i,j->ij", (3,), (4,)), ("ij,jk", (2, 3), (3, 2)),
          ("...ij,...jk->...ik", (2, 3, 4), (4, 2)), ("bij,bjk->bik", (1, 3, 4), (2, 4, 2)), ("bij->", (2, 3, 4)),
          ("ij,ij->i", TR(3, 4), (3, 4))]

BCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (3,)),
         ((2, 3), ()), ((1,), (2, 3)), ((1, 1), (1,)), (TR(3, 4), (3, 4)), (TR(4, 3), TR(4, 1))]
UNARY_SHAPES = [(3, 4), (), (1,), (1, 1), TR(3, 4), (2, 3, 2)]


def _pos(spec):
    return ("pos", spec[1] if spec and isinstance(spec[0], str) else spec)


def _far(spec):
    return ("far", spec[1] if spec and isinstance(spec[0], str) else spec)


def build_cases():
    c = []
    for a, b in BCAST:
        sid = f"{a}-{b}"
        c += [Case("add", sid, lambda x, y: x + y, None, [a, b]),
              Case("sub", sid, lambda x, y: x - y, None, [a, b]),
              Case("mul", sid, lambda x, y: x * y, None, [a, b]),
              Case("truediv", sid, lambda x, y: x / y, None, [a, _pos(b)]),
              Case("pow", sid, lambda x, y: x**y, None, [_pos(a), b]),
              Case("maximum", sid, lambda x, y: x.maximum(y), lambda x, y: np.maximum(x, y), [_far(a), b]),
              Case("minimum", sid, lambda x, y: x.minimum(y), lambda x, y: np.minimum(x, y), [_far(a), b])]
    c += [Case("radd", "scalar", lambda x: 2.5 + x, None, [(3, 4)]),
          Case("rsub", "scalar", lambda x: 2.5 - x, None, [(3, 4)]),
          Case("rmul", "scalar", lambda x: 2.5 * x, None, [(3, 4)]),
          Case("rtruediv", "scalar", lambda x: 2.5 / x, None, [P(3, 4)]),
          Case("rpow", "scalar", lambda x: 2.0**x, None, [(3, 4)]),
          Case("pow", "int-exponent", lambda x: x**3, None, [(3, 4)]),
          Case("pow", "neg-exponent", lambda x: x**-1.5, None, [P(2, 3)]),
          Case("add", "scalar", lambda x: x + 1, None, [(2, 3)]),
          Case("sub", "scalar", lambda x: x - 0.5, None, [TR(2, 3)]),
          Case("mul", "self", lambda x: x * x, None, [(2, 3)]),
          Case("truediv", "scalar", lambda x: x / 4, None, [(2, 3)]),
          Case("add", "alpha-method", lambda x, y: x.add(y, alpha=-0.5), lambda x, y: x - 0.5 * y, [(2, 3), (3,)]),
          Case("sub", "alpha-free", lambda x, y: tr.sub(x, y, alpha=2), lambda x, y: x - 2 * y, [(2, 3), (2, 3)]),
          Case("mul", "method", lambda x, y: x.mul(y), lambda x, y: x * y, [(2, 3), ()]),
          Case("truediv", "div-free", lambda x, y: tr.div(x, y), lambda x, y: x / y, [(2, 3), P(3)]),
          Case("pow", "method", lambda x: x.pow(2), lambda x: x**2, [(2, 3)]),
          Case("neg", "free", lambda x: tr.neg(x), lambda x: -x, [(2, 3)]),
          Case("clone", "free", lambda x: tr.clone(x), lambda x: x.copy(), [TR(2, 3)])]
    for s in UNARY_SHAPES:
        sid = str(s)
        c += [Case("clone", sid, lambda x: x.clone(), lambda x: x.copy(), [s]),
              Case("neg", sid, lambda x: -x, None, [s]),
              Case("exp", sid, lambda x: x.exp(), np.exp, [s]),
              Case("log", sid, lambda x: x.log(), np.log, [_pos(s)]),
              Case("tanh", sid, lambda x: x.tanh(), np.tanh, [s]),
              Case("sigmoid", sid, lambda x: x.sigmoid(), sigmoid_np, [s]),
              Case("relu", sid, lambda x: x.relu(), lambda x: np.maximum(x, 0), [_far(s)]),
              Case("abs", sid, lambda x: x.abs(), np.abs, [_far(s)]),
              Case("sqrt", sid, lambda x: x.sqrt(), np.sqrt, [_pos(s)])]
    mm = [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (2, 4, 5)),
          ((2, 1, 3, 4), (3, 4, 2)), ((2, 3, 4), (4,)), ((4,), (2, 4, 3)), (TR(3, 4), TR(4, 2)), ((1, 1), (1, 1))]
    c += [Case("matmul", f"{a}@{b}", lambda x, y: x @ y, None, [a, b]) for a, b in mm]
    c += [Case("matmul", "free", lambda x, y: tr.matmul(x, y), np.matmul, [(2, 3), (3, 2)]),
          Case("rmatmul", "ndarray@", lambda x: np.arange(6.0).reshape(2, 3) @ x,
               lambda x: np.arange(6.0).reshape(2, 3) @ x, [(3, 2)])]
    c += [Case("clip", "both", lambda x: x.clip(-0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), [FAR(3, 4)]),
          Case("clip", "min", lambda x: x.clip(min=0.1), lambda x: np.maximum(x, 0.1), [FAR(3, 4)]),
          Case("clip", "max-clamp", lambda x: x.clamp(max=0.2), lambda x: np.minimum(x, 0.2), [TR(3, 4)]),
          Case("clip", "0d", lambda x: x.clip(-1.0, 1.0), lambda x: np.clip(x, -1.0, 1.0), [()])]
    reductions = [(None, False), (0, False), (1, True), (-1, False), ((0, 2), False), ((0, 2), True), ([1], False)]
    for axis, keep in reductions:
        sid = f"{axis}-{keep}"
        npaxis = tuple(axis) if isinstance(axis, list) else axis
        c += [Case("sum", sid, lambda x, a=axis, k=keep: x.sum(a, keepdim=k),
                   lambda x, a=npaxis, k=keep: x.sum(a, keepdims=k), [(2, 3, 2)]),
              Case("mean", sid, lambda x, a=axis, k=keep: x.mean(a, keepdims=k),
                   lambda x, a=npaxis, k=keep: x.mean(a, keepdims=k), [TR(2, 3, 2)]),
              Case("var", sid, lambda x, a=axis, k=keep: x.var(a, keepdim=k),
                   lambda x, a=npaxis, k=keep: x.var(a, keepdims=k, ddof=1), [(2, 3, 2)]),
              Case("std", sid, lambda x, a=axis, k=keep: x.std(a, keepdim=k, correction=0),
                   lambda x, a=npaxis, k=keep: x.std(a, keepdims=k), [(2, 3, 2)]),
              Case("amax", sid, lambda x, a=axis, k=keep: x.amax(a, keepdim=k),
                   lambda x, a=npaxis, k=keep: x.max(a, keepdims=k), [FAR(2, 3, 2)]),
              Case("amin", sid, lambda x, a=axis, k=keep: x.amin(a, keepdims=k),
                   lambda x, a=npaxis, k=keep: x.min(a, keepdims=k), [FAR(2, 3, 2)])]
        if not isinstance(axis, (tuple, list)):  # max/min over one dim: the values of (values, indices)
            c += [Case("max", sid, lambda x, a=axis, k=keep: x.max(a, keepdim=k)[0] if a is not None else x.max(),
                       lambda x, a=npaxis, k=keep: x.max(a, keepdims=k), [FAR(2, 3, 2)]),
                  Case("min", sid, lambda x, a=axis, k=keep: x.min(a, keepdim=k).values if a is not None else x.min(),
                       lambda x, a=npaxis, k=keep: x.min(a, keepdims=k), [FAR(2, 3, 2)])]
    c += [Case("sum", "0d", lambda x: x.sum(), None, [()]),
          Case("sum", "size1", lambda x: x.sum(0), lambda x: x.sum(0), [(1, 3)]),
          Case("mean", "0d", lambda x: x.mean(), None, [()]),
          Case("var", "correction0", lambda x: x.var(1, correction=0), lambda x: x.var(1), [(3, 4)]),
          Case("var", "unbiased-false", lambda x: x.var(-1, False), lambda x: x.var(-1), [(3, 4)]),
          Case("max", "0d", lambda x: x.max(), None, [()])]
    c += [Case("reshape", "2d", lambda x: x.reshape(2, 6), lambda x: x.reshape(2, 6), [TR(3, 4)]),
          Case("reshape", "tuple-infer", lambda x: x.reshape((-1, 3)), lambda x: x.reshape(-1, 3), [(2, 3, 2)]),
          Case("reshape", "view-0d", lambda x: x.view(1, 1), lambda x: x.reshape(1, 1), [()]),
          Case("permute", "3d", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1), [(2, 3, 4)]),
          Case("permute", "neg", lambda x: x.permute((-1, 0)), lambda x: x.T, [TR(3, 2)]),
          Case("transpose", "0-2", lambda x: x.transpose(0, 2), lambda x: x.swapaxes(0, 2), [(2, 3, 4)]),
          Case("transpose", "default", lambda x: x.transpose(), lambda x: x.swapaxes(-1, -2), [(2, 3, 4)]),
          Case("T", "2d", lambda x: x.T, None, [(3, 4)]),
          Case("unsqueeze", "0", lambda x: x.unsqueeze(0), lambda x: x[None], [(3, 4)]),
          Case("unsqueeze", "-1", lambda x: x.unsqueeze(-1), lambda x: x[..., None], [TR(3, 4)]),
          Case("unsqueeze", "0d", lambda x: x.unsqueeze(0), lambda x: x.reshape(1), [()]),
          Case("squeeze", "all", lambda x: x.squeeze(), lambda x: x.squeeze(), [(1, 3, 1)]),
          Case("squeeze", "dim", lambda x: x.squeeze(0), lambda x: x.squeeze(0), [(1, 3, 1)]),
          Case("squeeze", "noop", lambda x: x.squeeze(1) * 1.0, lambda x: x, [(1, 3, 1)]),
          Case("flatten", "all", lambda x: x.flatten(), lambda x: x.reshape(-1), [TR(2, 3, 2)]),
          Case("flatten", "from1", lambda x: x.flatten(1), lambda x: x.reshape(2, -1), [(2, 3, 2)]),
          Case("flatten", "0d", lambda x: x.flatten(), lambda x: x.reshape(1), [()]),
          Case("expand", "size1", lambda x: x.expand(2, 3, 4), lambda x: np.broadcast_to(x, (2, 3, 4)), [(3, 1)]),
          Case("expand", "minus1", lambda x: x.expand(-1, 4), lambda x: np.broadcast_to(x, (3, 4)), [(3, 1)]),
          Case("expand", "0d", lambda x: x.expand((2, 2)), lambda x: np.broadcast_to(x, (2, 2)), [()])]
    idx = [("int", lambda x: x[1]), ("neg-int", lambda x: x[-1, 1:]), ("slice", lambda x: x[1:3]),
           ("step", lambda x: x[:, ::2]), ("ellipsis", lambda x: x[..., 1]), ("newaxis", lambda x: x[None, 1]),
           ("list-repeat", lambda x: x[[0, 2, 0]]), ("pair-repeat", lambda x: x[[0, 0, 1], [1, 1, 3]]),
           ("mixed", lambda x: x[1:, [0, 0, 3]]), ("bool-mask", lambda x: x[COND])]
    c += [Case("getitem", i, f, None, [(3, 4)]) for i, f in idx]
    c += [Case("getitem", "tensor-2d-repeat", lambda x: x[tr.Tensor(IDX2D)], lambda x: x[IDX2D], [TR(3, 4)]),
          Case("getitem", "0d-result", lambda x: x[1, 2], None, [(3, 4)]),
          Case("getitem", "twice-same-input", lambda x: x[0] * x[0] + x[1:].sum(0), None, [(3, 4)])]
    c += [Case("cat", "axis0", lambda a, b, d: tr.cat([a, b, d]), lambda a, b, d: np.concatenate([a, b, d]),
               [(1, 3), (2, 3), (1, 3)]),
          Case("cat", "axis-1", lambda a, b: tr.cat([a, b], axis=-1), lambda a, b: np.concatenate([a, b], -1),
               [(2, 1), TR(2, 3)]),
          Case("cat", "concat-3d", lambda a, b: tr.concat((a, b), 1), lambda a, b: np.concatenate([a, b], 1),
               [(2, 2, 2), (2, 1, 2)]),
          Case("stack", "axis0", lambda a, b: tr.stack([a, b]), lambda a, b: np.stack([a, b]), [(3,), (3,)]),
          Case("stack", "axis-1", lambda a, b: tr.stack([a, b], -1), lambda a, b: np.stack([a, b], -1),
               [(2, 3), TR(2, 3)]),
          Case("stack", "0d", lambda a, b: tr.stack([a, b]), lambda a, b: np.stack([a, b]), [(), ()]),
          Case("split", "int", lambda x: x.split(2, axis=1), lambda x: (x[:, :2], x[:, 2:4], x[:, 4:]), [(2, 5)]),
          Case("split", "sizes", lambda x: tr.split(x, [1, 2]), lambda x: (x[:1], x[1:]), [(3, 2)]),
          Case("chunk", "3", lambda x: x.chunk(3, axis=-1), lambda x: tuple(np.split(x, 3, -1)), [(2, 6)]),
          Case("chunk", "uneven", lambda x: x.chunk(2), lambda x: (x[:3], x[3:]), [(5,)])]
    c += [Case("where", "same", lambda a, b: tr.where(COND, a, b), lambda a, b: np.where(COND, a, b),
               [(3, 4), (3, 4)]),
          Case("where", "bcast", lambda a, b: tr.where(tr.Tensor(COND[:, :1]), a, b),
               lambda a, b: np.where(COND[:, :1], a, b), [(4,), (3, 1)]),
          Case("where", "scalar-b", lambda a: tr.where(COND, a, 0.0), lambda a: np.where(COND, a, 0.0), [TR(3, 4)]),
          Case("where", "scalar-a", lambda b: tr.where(COND, 1.5, b), lambda b: np.where(COND, 1.5, b), [(3, 4)])]
    c += _index_cases()
    for axis in (-1, 0, 1):
        c += [Case("softmax", str(axis), lambda x, a=axis: x.softmax(a), lambda x, a=axis: np.exp(log_softmax_np(x, a)),
                   [(2, 3, 4)]),
              Case("log_softmax", str(axis), lambda x, a=axis: x.log_softmax(a),
                   lambda x, a=axis: log_softmax_np(x, a), [TR(2, 3, 4)]),
              Case("logsumexp", str(axis), lambda x, a=axis: x.logsumexp(a), lambda x, a=axis: logsumexp_np(x, a),
                   [(2, 3, 4)])]
    c += [Case("logsumexp", "keepdims", lambda x: x.logsumexp(1, keepdims=True),
               lambda x: logsumexp_np(x, 1, keepdims=True), [(3, 4)]),
          Case("logsumexp", "tuple-axis", lambda x: x.logsumexp((0, 2)), lambda x: logsumexp_np(x, (0, 2)),
               [(2, 3, 2)]),
          Case("softmax", "size1", lambda x: x.softmax(-1), lambda x: np.ones_like(x), [(3, 1)])]
    # Through float32 and back: finite differences must step well above float32 rounding (the map is linear).
    c += [Case("astype", "f64-f32-f64", lambda x: x.astype(tr.float32).astype(tr.float64) * 3.0,
               lambda x: x.astype(np.float32).astype(np.float64) * 3.0, [(3, 4)], dict(eps=1e-2, atol=1e-4)),
          Case("astype", "float-double", lambda x: x.float().double() - x.to(tr.float64),
               lambda x: x.astype(np.float32).astype(np.float64) - x,
               [(2, 2)], dict(eps=1e-2, atol=1e-4))]
    return c + inplace_cases()


def _written(x, op):
    """op applied in place to a non-leaf copy of x (a leaf that requires grad refuses in-place changes)."""
    y = x * 1.0
    op(y)
    return y


def _np_written(x, op):
    y = x.copy()
    op(y)
    return y


def _set(idx, value):
    def f(y):
        y[idx] = value(y) if callable(value) else value
    return f


def inplace_cases():
    sets = [("int", 1, None), ("slice-bcast", (slice(None), 1), None), ("neg-slice", (-1, slice(1, None)), None),
            ("ellipsis", (Ellipsis, 0), None), ("newaxis", (None, 1), None), ("list", [0, 2], None),
            ("pair", ([0, 2], [1, 3]), None), ("mask", COND, None), ("all", Ellipsis, None)]
    c = []
    for sid, idx, _ in sets:
        c.append(Case("setitem", sid, lambda x, v, i=idx: _written(x, _set(i, lambda y: v.expand(y[i].shape))),
                      lambda x, v, i=idx: _np_written(x, _set(i, lambda y: np.broadcast_to(v, y[i].shape))),
                      [(3, 4), ()]))
    c += [Case("setitem", "row-bcast", lambda x, v: _written(x, _set(slice(0, 2), v)),
               lambda x, v: _np_written(x, _set(slice(0, 2), v)), [(3, 4), (1, 4)]),
          Case("setitem", "tensor-index", lambda x, v: _written(x, _set(tr.tensor([2, 0]), v)),
               lambda x, v: _np_written(x, _set([2, 0], v)), [(3, 4), (2, 4)]),
          Case("setitem", "number", lambda x: _written(x, _set(1, 2.5)) * x, lambda x: _np_written(x, _set(1, 2.5)) * x,
               [(3, 4)]),
          Case("add_", "alpha", lambda x, o: _written(x, lambda y: y.add_(o, alpha=-0.5)), lambda x, o: x - 0.5 * o,
               [(3, 4), (4,)]),
          Case("sub_", "bcast", lambda x, o: _written(x, lambda y: y.sub_(o)), lambda x, o: x - o, [(3, 4), (3, 1)]),
          Case("sub_", "alpha-number", lambda x: _written(x, lambda y: y.sub_(2.0, alpha=3)), lambda x: x - 6.0,
               [(2, 3)]),
          Case("mul_", "bcast", lambda x, o: _written(x, lambda y: y.mul_(o)), lambda x, o: x * o, [(3, 4), (4,)]),
          Case("div_", "tensor", lambda x, o: _written(x, lambda y: y.div_(o)), lambda x, o: x / o, [(3, 4), P(3, 4)]),
          Case("clamp_", "both", lambda x: _written(x, lambda y: y.clamp_(-0.5, 0.5)), lambda x: np.clip(x, -0.5, 0.5),
               [FAR(3, 4)]),
          Case("clamp_", "clip_-min", lambda x: _written(x, lambda y: y.clip_(min=0.1)), lambda x: np.maximum(x, 0.1),
               [FAR(3, 4)]),
          Case("relu_", "far", lambda x: _written(x, lambda y: y.relu_()), lambda x: np.maximum(x, 0), [FAR(3, 4)]),
          Case("copy_", "bcast", lambda x, s: _written(x, lambda y: y.copy_(s)) * x,
               lambda x, s: np.broadcast_to(s, x.shape) * x, [(3, 4), (4,)]),
          Case("fill_", "number", lambda x: _written(x, lambda y: y.fill_(1.5)) * x, lambda x: 1.5 * x, [(2, 3)]),
          Case("zero_", "then-add", lambda x, o: _written(x, lambda y: y.zero_().add_(o)), lambda x, o: x * 0 + o,
               [(2, 3), (2, 3)]),
          Case("masked_fill_", "mask", lambda x: _written(x, lambda y: y.masked_fill_(tr.Tensor(COND), -1.0)),
               lambda x: np.where(COND, -1.0, x), [(3, 4)]),
          Case("masked_fill_", "bcast-mask", lambda x: _written(x, lambda y: y.masked_fill_(tr.Tensor(COND[:1]), 0.0)),
               lambda x: np.where(COND[:1], 0.0, x), [(3, 4)])]
    c += [Case("unsqueeze_", "mid", lambda x: _written(x, lambda y: y.unsqueeze_(1)), lambda x: x[:, None], [(3, 4)]),
          Case("squeeze_", "dim", lambda x: _written(x, lambda y: y.squeeze_(0)), lambda x: x[0], [(1, 4)]),
          Case("squeeze_", "all", lambda x: _written(x, lambda y: y.squeeze_()), lambda x: x.reshape(4), [(1, 4, 1)]),
          Case("transpose_", "neg", lambda x: _written(x, lambda y: y.transpose_(-1, 0)), lambda x: x.swapaxes(-1, 0),
               [(2, 3, 4)]),
          Case("t_", "2d", lambda x: _written(x, lambda y: y.t_()) * 1.0, lambda x: x.T, [(3, 4)])]

    def iop(name):
        def f(x, o):
            y = x * 1.0
            if name == "iadd":
                y += o
            elif name == "isub":
                y -= o
            elif name == "imul":
                y *= o
            else:
                y /= o
            return y
        return f

    refs = {"iadd": np.add, "isub": np.subtract, "imul": np.multiply, "itruediv": np.divide}
    c += [Case(n, "bcast", iop(n), refs[n], [(3, 4), P(4,)]) for n in refs]
    return c


def _index_cases():
    """Cases for picking, sorting, selecting, triangles and contractions (issue 10's tensor ops)."""
    gi = tr.tensor(GIDX)
    c = [Case("gather", "dim1-repeat", lambda x: x.gather(1, gi), lambda x: np.take_along_axis(x, GIDX, 1), [(3, 4)]),
         Case("gather", "dim0-smaller", lambda x: x.gather(-2, tr.tensor([[2, 0], [0, 0]])),
              lambda x: np.take_along_axis(x[:, :2], np.array([[2, 0], [0, 0]]), 0), [TR(3, 4)]),
         Case("scatter_add", "dim1", lambda a, s: a.scatter_add(1, gi, s),
              lambda a, s: scatter_add_np(a, 1, GIDX, s), [(3, 4), (3, 3)]),
         Case("scatter_add", "dim0-larger-src", lambda a, s: a.scatter_add(0, tr.tensor([[1, 1], [0, 1]]), s),
              lambda a, s: scatter_add_np(a, 0, np.array([[1, 1], [0, 1]]), s), [(2, 3), (3, 3)]),
         Case("bmm", "3d", lambda a, b: a.bmm(b), np.matmul, [(2, 3, 4), TR(2, 4, 5)]),
         Case("bmm", "free", lambda a, b: tr.bmm(a, b), np.matmul, [(1, 2, 2), (1, 2, 3)]),
         Case("t", "2d", lambda x: x.t(), lambda x: x.T, [(3, 4)]),
         Case("t", "1d", lambda x: x.t() * 1.0, lambda x: x, [(3,)]),
         Case("repeat", "tile", lambda x: x.repeat(2, 1, 3), lambda x: np.tile(x, (2, 1, 3)), [(3, 1)]),
         Case("repeat", "same-ndim", lambda x: x.repeat(2, 2), lambda x: np.tile(x, (2, 2)), [TR(2, 3)]),
         Case("narrow", "dim1", lambda x: x.narrow(1, 1, 2), lambda x: x[:, 1:3], [(3, 4)]),
         Case("narrow", "neg-start", lambda x: x.narrow(-2, -2, 2), lambda x: x[1:], [(3, 4)]),
         Case("select", "neg-dim", lambda x: x.select(-1, 2), lambda x: x[:, 2], [(3, 4)]),
         Case("unbind", "dim1", lambda x: x.unbind(1), lambda x: tuple(x[:, i] for i in range(3)), [(2, 3)]),
         Case("tril", "0", lambda x: x.tril(), np.tril, [(3, 4)]),
         Case("tril", "batched-neg", lambda x: x.tril(-1), lambda x: np.tril(x, -1), [(2, 3, 3)]),
         Case("triu", "1", lambda x: x.triu(1), lambda x: np.triu(x, 1), [TR(4, 3)]),
         Case("triu", "free", lambda x: tr.triu(x, diagonal=-1), lambda x: np.triu(x, -1), [(3, 4)]),
         Case("masked_fill", "number", lambda x: x.masked_fill(tr.tensor(COND), -1.5),
              lambda x: np.where(COND, -1.5, x), [(3, 4)]),
         Case("masked_fill", "bcast-0d-tensor", lambda x, v: x.masked_fill(tr.tensor(COND[0]), v),
              lambda x, v: np.where(COND[0], v, x), [TR(3, 4), ()]),
         Case("masked_select", "same", lambda x: x.masked_select(tr.tensor(COND)), lambda x: x[COND], [(3, 4)]),
         Case("masked_select", "bcast", lambda x: tr.masked_select(x, tr.tensor(COND)),
              lambda x: np.broadcast_to(x, (3, 4))[COND], [(4,)]),
         Case("sort", "dim1", lambda x: x.sort(1).values, lambda x: np.sort(x, 1), [FAR(3, 4)]),
         Case("sort", "desc-dim0", lambda x: x.sort(0, descending=True)[0], lambda x: -np.sort(-x, 0), [FAR(3, 4)]),
         Case("topk", "largest", lambda x: x.topk(2).values, lambda x: -np.sort(-x, -1)[:, :2], [FAR(3, 4)]),
         Case("topk", "smallest-dim0", lambda x: tr.topk(x, 1, dim=0, largest=False)[0],
              lambda x: np.sort(x, 0)[:1], [FAR(3, 4)]),
         Case("cumsum", "dim1", lambda x: x.cumsum(1), lambda x: np.cumsum(x, 1), [(3, 4)]),
         Case("cumsum", "neg-dim-free", lambda x: tr.cumsum(x, dim=-3), lambda x: np.cumsum(x, 0), [TR(2, 3, 2)]),
         Case("expand_as", "bcast", lambda x: x.expand_as(tr.zeros(2, 3, 4)),
              lambda x: np.broadcast_to(x, (2, 3, 4)), [(3, 1)]),
         Case("where", "method", lambda a, b: a.where(tr.tensor(COND), b), lambda a, b: np.where(COND, a, b),
              [(3, 4), (4,)]),
         Case("where", "both-scalars-free", lambda a: tr.where(tr.tensor(COND), 1.0, 2.0) * a,
              lambda a: np.where(COND, 1.0, 2.0) * a, [(3, 4)])]
    for eq, *shapes in EINSUM:
        c.append(Case("einsum", eq, lambda *xs, e=eq: tr.einsum(e, *xs), lambda *xs, e=eq: np.einsum(e, *xs),
                      list(shapes)))
    return c


CASES = build_cases()


def _inputs(case, seed):
    rng = np.random.default_rng(seed)
    hosts = [make_host(s, rng) for s in case.specs]
    return hosts, [tr.Tensor(h, dtype=tr.float64, requires_grad=True) for h in hosts]


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.op}[{c.id}]" for c in CASES])
def test_op(case):
    hosts, inputs = _inputs(case, CASES.index(case))
    outs = _as_tuple(case.fn(*inputs))
    refs = _as_tuple((case.ref or case.fn)(*[h.copy() for h in hosts]))
    for out, ref in zip(outs, refs, strict=True):
        assert out.dtype == tr.float64
        assert out.shape == np.shape(ref)
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)
    assert tr.gradcheck(case.fn, inputs, **(case.tol or {}))
    for t in inputs:
        assert t.grad is not None and t.grad.shape == t.shape and t.grad.dtype == tr.float64


def _graph_names(out):
    names = set()
    for o in _as_tuple(out):
        if o.grad_fn is not None:
            names |= {fn.name for fn in topological_order(o.grad_fn)}
    return names


def public_surface():
    """Names of Tensor's public methods and operator dunders (without the leading/trailing underscores)."""
    names = set()
    for n in dir(tr.Tensor):
        if n.startswith("__") and n not in dir(object):
            names.add(n[2:-2])
        elif not n.startswith("_"):
            names.add(n)
    free = {n for n in ("cat", "concat", "stack", "split", "where", "matmul", "einsum") if hasattr(tr, n)}
    return (names - TENSOR_PLUMBING) | free


def test_op_list_is_complete():
    """OPS is exactly the differentiable public surface, and every op in it has at least one case."""
    differentiable = {ALIASES.get(n, n) for n in public_surface() - NOT_DIFFERENTIABLE}
    assert differentiable == set(OPS), f"untested: {differentiable - set(OPS)}; stale: {set(OPS) - differentiable}"
    covered = {c.op for c in CASES}
    assert covered == set(OPS), f"ops without a gradcheck case: {set(OPS) - covered}"
    print(f"ops checked / ops: {len(covered)} / {len(differentiable)}")


def test_every_primitive_function_is_reached():
    """Each Function class in tinygrad_rnn.ops appears in the graph of at least one table case."""
    primitives = {v.__name__ for v in vars(ops).values()
                  if isinstance(v, type) and issubclass(v, Function) and v.__module__ == ops.__name__}
    seen = set()
    for i, case in enumerate(CASES):
        seen |= _graph_names(case.fn(*_inputs(case, i)[1]))
    assert primitives <= seen, f"primitives never reached by a case: {primitives - seen}"


# ----- specific gradients the table cannot pin down
def test_clone_is_new_memory_in_the_graph():
    """clone() copies (writing into the copy leaves the original as it was) and gradients flow back through it;
    a memory_format, which tensors here do not have, is refused by name."""
    x = tr.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x.clone()
    assert y.grad_fn is not None and y.grad_fn.name == "Clone"
    y.detach()[0, 0] = 10.0  # writes the clone's own storage
    c = x.detach().clone()
    c[1, 1] = -1.0
    np.testing.assert_array_equal(x.numpy(), [[1.0, 2.0], [3.0, 4.0]])
    assert y.detach()[0, 0].item() == 10.0
    (y * tr.Tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(TypeError, match="memory_format"):
        x.clone(memory_format="channels_last")


def test_max_ties_share_gradient_and_maximum_ties_split():
    x = tr.Tensor([1.0, 3.0, 3.0, -2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.5, 0.5, 0.0])
    a, b = tr.Tensor([1.0, 2.0, 5.0], requires_grad=True), tr.Tensor([1.0, 3.0, 4.0], requires_grad=True)
    a.maximum(b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 0.0, 1.0])
    np.testing.assert_allclose(b.grad.numpy(), [0.5, 1.0, 0.0])


def test_clip_passes_gradient_inside_and_at_bounds_only():
    x = tr.Tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    x.clip(-1.0, 1.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1.0, 1.0, 1.0, 0.0])


def test_relu_and_abs_at_zero_use_pytorch_subgradient():
    x = tr.Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    (x.relu() + x.abs()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, 0.0, 2.0])


def test_gradient_accumulates_across_two_backward_calls(rng):
    w = tr.Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    x1, x2 = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    (tr.Tensor(x1) @ w).sum().backward()
    first = w.grad.numpy().copy()
    np.testing.assert_allclose(first, x1.sum(0)[:, None].repeat(2, 1), rtol=1e-5)
    (tr.Tensor(x2) @ w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), first + x2.sum(0)[:, None].repeat(2, 1), rtol=1e-5)


def test_broadcast_gradient_is_reduced_to_each_input_shape(rng):
    a = tr.Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True, dtype=tr.float64)
    b = tr.Tensor(rng.standard_normal((3, 1)), requires_grad=True, dtype=tr.float64)
    c = tr.Tensor(rng.standard_normal(()), requires_grad=True, dtype=tr.float64)
    g = rng.standard_normal((2, 3, 4))
    ((a * b + c) * tr.Tensor(g, dtype=tr.float64)).sum().backward()
    an, bn = a.numpy(), b.numpy()
    np.testing.assert_allclose(a.grad.numpy(), g * bn)
    np.testing.assert_allclose(b.grad.numpy(), (g * an).sum(axis=(0, 2))[:, None])
    np.testing.assert_allclose(c.grad.numpy(), g.sum())
    assert c.grad.shape == () and b.grad.shape == (3, 1)


def test_mixed_float32_float64_promotes_and_grads_keep_input_dtypes(rng):
    a = tr.Tensor(rng.standard_normal((2, 3)), requires_grad=True, dtype=tr.float32)
    b = tr.Tensor(rng.standard_normal((2, 3)), requires_grad=True, dtype=tr.float64)
    y = a * b
    assert y.dtype == tr.float64
    y.sum().backward()
    assert a.grad.dtype == tr.float32 and b.grad.dtype == tr.float64
    np.testing.assert_allclose(a.grad.numpy(), b.numpy(), rtol=1e-6)
    x = tr.Tensor([1.0, 2.0], requires_grad=True)
    x.astype(tr.float64).sum().backward()
    assert x.grad.dtype == tr.float32


# ----- float32 stability at extreme logits (pytest turns RuntimeWarning into errors, so a warning fails too)
EXTREME = np.array([[1e4, -1e4, 0.0, 1e4], [-1e4, -1e4, -1e4, -1e4], [3.0, 1e4, -2.0, 1.0]])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_stable_at_large_magnitude_float32(name, sign):
    host = EXTREME * sign
    x = tr.Tensor(host, requires_grad=True, dtype=tr.float32)
    out = getattr(x, name)(-1)
    ref = {"softmax": lambda v: np.exp(log_softmax_np(v, -1)), "log_softmax": lambda v: log_softmax_np(v, -1),
           "logsumexp": lambda v: logsumexp_np(v, -1)}[name](host)
    assert out.dtype == tr.float32 and np.all(np.isfinite(out.numpy()))
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6, atol=1e-6)
    g = np.random.default_rng(0).standard_normal(out.shape)
    (out * tr.Tensor(g, dtype=tr.float32)).sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    if name == "logsumexp":  # d logsumexp / dx = softmax(x)
        np.testing.assert_allclose(x.grad.numpy(), g[:, None] * np.exp(log_softmax_np(host, -1)), atol=1e-6)


def test_sigmoid_and_tanh_saturate_without_overflow():
    x = tr.Tensor([-1e4, -100.0, 0.0, 100.0, 1e4], requires_grad=True)
    s = x.sigmoid()
    np.testing.assert_allclose(s.numpy(), [0.0, sigmoid_np(-100.0), 0.5, 1.0, 1.0], atol=1e-7)
    (s + x.tanh()).sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))


# ----- Hypothesis properties on random shapes
SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "maximum": lambda a, b: a.maximum(b)}
BINARY_NP = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "maximum": np.maximum}


@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_property_binary_broadcasting(shapes, op, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    ha, hb = rng.standard_normal(sa), rng.uniform(0.5, 2.0, sb) * rng.choice([-1, 1], sb)
    a, b = tr.Tensor(ha, dtype=tr.float64, requires_grad=True), tr.Tensor(hb, dtype=tr.float64, requires_grad=True)
    out = BINARY[op](a, b)
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.numpy(), BINARY_NP[op](ha, hb), rtol=1e-12)
    assert tr.gradcheck(BINARY[op], [a, b])


@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=3), data=st.data(),
       op=st.sampled_from(["sum", "mean", "amax", "logsumexp"]), keepdims=st.booleans())
def test_property_reductions(shape, data, op, keepdims):
    axes = data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1).map(lambda s: tuple(sorted(s))))
    rng = np.random.default_rng(len(shape) * 7 + len(axes))
    host = rng.permutation(np.arange(np.prod(shape)) * 0.31 - 1.0).reshape(shape)  # distinct: max is smooth
    x = tr.Tensor(host, dtype=tr.float64, requires_grad=True)
    fn = lambda t: getattr(t, op)(axes, keepdims=keepdims)  # noqa: E731
    ref = logsumexp_np(host, axes, keepdims) if op == "logsumexp" else \
        getattr(host, op.replace("amax", "max"))(axes, keepdims=keepdims)
    np.testing.assert_allclose(fn(x).numpy(), ref, rtol=1e-12)
    assert tr.gradcheck(fn, [x])


@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=4, max_side=3), data=st.data())
def test_property_permute_gradient_is_inverse_permutation(shape, data):
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    rng = np.random.default_rng(len(shape))
    host, g = rng.standard_normal(shape), rng.standard_normal(tuple(shape[p] for p in perm))
    x = tr.Tensor(host, dtype=tr.float64, requires_grad=True)
    y = x.permute(perm)
    np.testing.assert_array_equal(y.numpy(), np.transpose(host, perm))
    (y * tr.Tensor(g, dtype=tr.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.transpose(g, np.argsort(perm)))


@SETTINGS
@given(n=st.integers(1, 4), width=st.integers(1, 3), data=st.data())
def test_property_integer_index_gradient_accumulates_repeats(n, width, data):
    idx = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6))
    rng = np.random.default_rng(n * 10 + width)
    host, g = rng.standard_normal((n, width)), rng.standard_normal((len(idx), width))
    x = tr.Tensor(host, dtype=tr.float64, requires_grad=True)
    y = x[idx]
    np.testing.assert_array_equal(y.numpy(), host[idx])
    (y * tr.Tensor(g, dtype=tr.float64)).sum().backward()
    expected = np.zeros_like(host)
    np.add.at(expected, idx, g)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)
