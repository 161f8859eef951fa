"""The torch.* free functions: joins (cat, stack), where, einsum, and a function for every Tensor method that
PyTorch also offers as one (tr.sum(x, 1) is x.sum(1)). Each is written out so its signature shows PyTorch's
arguments. Imports: helpers, backend, ops, tensor."""

import builtins
import string

from . import backend as B
from . import ops
from .helpers import dim_alias, normalize_dim
from .tensor import Tensor

__all__ = ["abs", "add", "amax", "amin", "argmax", "argmin", "argsort", "bmm", "cat", "chunk", "clamp", "clip", "clone",
           "concat", "concatenate", "cumsum", "div", "einsum", "exp", "flatten", "gather", "log", "log_softmax",
           "logsumexp", "masked_fill", "masked_select", "matmul", "max", "maximum", "mean", "min", "minimum", "mul",
           "narrow", "neg", "numel", "permute", "pow", "relu", "reshape", "scatter_add", "select", "sigmoid",
           "softmax", "sort", "split", "sqrt", "squeeze", "stack", "std", "sub", "sum", "swapaxes", "t", "tanh",
           "topk", "transpose", "tril", "triu", "unbind", "unsqueeze", "var", "where"]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor._as_tensor(x)


# ----- joins
def _sequence(op, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    return tensors


def cat(tensors, dim=None, *, axis=None):
    """Join tensors along an existing dim (default 0); shapes must agree outside it."""
    dim, _ = dim_alias("cat", dim, axis)
    tensors = [_t(t) for t in _sequence("cat", tensors)]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    ref = tensors[0].shape
    if not ref:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    dim = normalize_dim(0 if dim is None else dim, len(ref), "cat")
    for t in tensors:
        if len(t.shape) != len(ref) or any(s != r for i, (s, r) in enumerate(zip(t.shape, ref, strict=True))
                                           if i != dim):
            raise ValueError(f"cat: shapes {ref} and {t.shape} differ outside dim {dim}")
    if len(tensors) == 1:
        return tensors[0]
    return ops.Concat.apply(*_promoted(tensors), axis=dim)


def _promoted(tensors):
    """The tensors in their common dtype (PyTorch's promotion), each cast recorded so gradients keep input dtypes."""
    wide = B.promote(*[t.dtype for t in tensors])
    return [t.to(wide) for t in tensors]


concat = concatenate = cat


def stack(tensors, dim=None, *, axis=None):
    """Join tensors of equal shape along a new dim (default 0; -ndim-1 <= dim <= ndim)."""
    dim, _ = dim_alias("stack", dim, axis)
    tensors = [_t(t) for t in _sequence("stack", tensors)]
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    dim = normalize_dim(0 if dim is None else dim, tensors[0].ndim, "stack", extra=1)
    return cat([t.unsqueeze(dim) for t in tensors], dim)


def split(tensor, split_size_or_sections, dim=None, *, axis=None):
    return _t(tensor).split(split_size_or_sections, dim, axis=axis)


def chunk(input, chunks, dim=None, *, axis=None):
    return _t(input).chunk(chunks, dim, axis=axis)


def where(condition, input, other):
    """input where condition is true, else other; the three broadcast, and either value may be a number."""
    if not isinstance(input, Tensor):
        input = other._const(input) if isinstance(other, Tensor) else _t(input)
    return input.where(condition, other)


# ----- einsum
def einsum(equation, *operands):
    """Einstein summation, e.g. einsum("bqd,bkd->bqk", q, k) for attention scores. Letters a-z/A-Z, "..." for
    leading dims, implicit output (no "->": the letters seen once, in alphabetical order); each operand names each
    of its letters once (no diagonals). Dims of size 1 broadcast. One node, its backward also an einsum."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum: equation must be a str such as 'ij,jk->ik', got {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = [_t(o) for o in operands]
    ins, out = _einsum_spec(equation, [t.shape for t in tensors])
    tensors = _promoted(tensors)
    return ops.Einsum.apply(*tensors, ins=ins, out=out)


def _einsum_spec(equation, shapes):
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: {equation!r} names {len(ins)} operands, got {len(shapes)} tensors")
    spare = iter(c for c in string.ascii_letters if c not in eq)
    widths = [len(shape) - (len(s) - 3) for s, shape in zip(ins, shapes, strict=True) if "..." in s]
    ell = "".join(next(spare) for _ in range(builtins.max(widths, default=0)))
    sizes = {}
    for k, (s, shape) in enumerate(zip(ins, shapes, strict=True)):
        if "..." in s:
            width = len(shape) - (len(s) - 3)
            s = s.replace("...", ell[len(ell) - width:] if width > 0 else "")
        if len(s) != len(shape) or not builtins.all(c in string.ascii_letters for c in s):
            raise ValueError(f"einsum: subscripts {ins[k]!r} do not fit operand {k} of shape {tuple(shape)}")
        if len(set(s)) != len(s):
            raise ValueError(f"einsum: subscripts {ins[k]!r} repeat a letter (diagonals are not supported)")
        for c, n in zip(s, shape, strict=True):
            if sizes.setdefault(c, n) != n and 1 not in (n, sizes[c]):
                raise ValueError(f"einsum: letter {c!r} has size {sizes[c]} in one operand and {n} in another")
            sizes[c] = builtins.max(sizes[c], n)
        ins[k] = s
    seen = "".join(ins)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        out = ell + "".join(sorted(c for c in set(seen) if seen.count(c) == 1 and c not in ell))
    if len(set(out)) != len(out) or not builtins.all(c in seen for c in out):
        raise ValueError(f"einsum: output subscripts {rhs!r} must be distinct letters found in the operands")
    return tuple(ins), out


# ----- a free function for each Tensor method PyTorch also has as one
def matmul(input, other):
    return _t(input).matmul(other)


def bmm(input, mat2):
    return _t(input).bmm(mat2)


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):  # noqa: A001
    return _t(input).sum(dim, keepdim, dtype, axis=axis, keepdims=keepdims)


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    return _t(input).mean(dim, keepdim, dtype, axis=axis, keepdims=keepdims)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
    return _t(input).var(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
    return _t(input).std(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)


def cumsum(input, dim, *, dtype=None):
    return _t(input).cumsum(dim, dtype)


def amax(input, dim=(), keepdim=False, *, axis=None, keepdims=None):
    return _t(input).amax(dim, keepdim, axis=axis, keepdims=keepdims)


def amin(input, dim=(), keepdim=False, *, axis=None, keepdims=None):
    return _t(input).amin(dim, keepdim, axis=axis, keepdims=keepdims)


def max(input, dim=None, keepdim=False, *, axis=None, keepdims=None, other=None):  # noqa: A001
    """max(x) -> 0-d max; max(x, dim) -> (values, indices); max(x, y) -> elementwise maximum."""
    return _t(input).max(dim, keepdim, axis=axis, keepdims=keepdims, other=other)


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=None, other=None):  # noqa: A001
    return _t(input).min(dim, keepdim, axis=axis, keepdims=keepdims, other=other)


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    return _t(input).argmax(dim, keepdim, axis=axis, keepdims=keepdims)


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    return _t(input).argmin(dim, keepdim, axis=axis, keepdims=keepdims)


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    return _t(input).logsumexp(dim, keepdim, axis=axis, keepdims=keepdims)


def softmax(input, dim=None, dtype=None, *, axis=None):
    return _t(input).softmax(dim, dtype, axis=axis)


def log_softmax(input, dim=None, dtype=None, *, axis=None):
    return _t(input).log_softmax(dim, dtype, axis=axis)


def sort(input, dim=-1, descending=False, stable=False):
    return _t(input).sort(dim, descending, stable)


def argsort(input, dim=-1, descending=False, stable=False):
    return _t(input).argsort(dim, descending, stable)


def topk(input, k, dim=-1, largest=True, sorted=True):
    return _t(input).topk(k, dim, largest, sorted)


def maximum(input, other):
    return _t(input).maximum(other)


def minimum(input, other):
    return _t(input).minimum(other)


def exp(input):
    return _t(input).exp()


def clone(input, *, memory_format=None):
    return _t(input).clone(memory_format=memory_format)


def log(input):
    return _t(input).log()


def tanh(input):
    return _t(input).tanh()


def sigmoid(input):
    return _t(input).sigmoid()


def relu(input):
    return _t(input).relu()


def abs(input):  # noqa: A001
    return _t(input).abs()


def sqrt(input):
    return _t(input).sqrt()


def neg(input):
    return _t(input).neg()


def add(input, other, *, alpha=1):
    return _t(input).add(other, alpha=alpha)


def sub(input, other, *, alpha=1):
    return _t(input).sub(other, alpha=alpha)


def mul(input, other):
    return _t(input).mul(other)


def div(input, other):
    return _t(input).div(other)


def pow(input, exponent):  # noqa: A001
    return _t(input).pow(exponent)


def clamp(input, min=None, max=None):  # noqa: A002
    return _t(input).clamp(min, max)


clip = clamp


def reshape(input, shape):
    return _t(input).reshape(shape)


def flatten(input, start_dim=0, end_dim=-1):
    return _t(input).flatten(start_dim, end_dim)


def squeeze(input, dim=None):
    return _t(input).squeeze(dim)


def unsqueeze(input, dim):
    return _t(input).unsqueeze(dim)


def transpose(input, dim0, dim1):
    return _t(input).transpose(dim0, dim1)


swapaxes = transpose


def permute(input, dims):
    return _t(input).permute(dims)


def t(input):
    return _t(input).t()


def narrow(input, dim, start, length):
    return _t(input).narrow(dim, start, length)


def select(input, dim, index):
    return _t(input).select(dim, index)


def unbind(input, dim=0):
    return _t(input).unbind(dim)


def gather(input, dim, index):
    return _t(input).gather(dim, index)


def scatter_add(input, dim, index, src):
    return _t(input).scatter_add(dim, index, src)


def masked_fill(input, mask, value):
    return _t(input).masked_fill(mask, value)


def masked_select(input, mask):
    return _t(input).masked_select(mask)


def tril(input, diagonal=0):
    return _t(input).tril(diagonal)


def triu(input, diagonal=0):
    return _t(input).triu(diagonal)


def numel(input):
    return _t(input).numel()
