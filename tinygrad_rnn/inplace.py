"""In-place changes of a tensor's storage (x[idx] = v, add_, copy_, ...): the SetItem Function, the rules that PyTorch
applies (no in-place change of a leaf that requires grad, the change recorded in the graph when grad is involved) and
version bumps. Imports: backend, autograd. Tensors are handled through their methods (expand, astype, ...).

How a recorded change works: the new values are computed out of place from a stand-in for the old tensor (a "ghost":
a Tensor object over the same storage with the old grad_fn), then SetItem writes them into the storage and becomes
the tensor's grad_fn; its `previous` is the ghost, so Functions made before the change still reach the old history
(autograd._as_of), and the version counter tells the backward of any Function whose saved arrays were overwritten.
"""

from . import backend as B
from .autograd import Function, bump_version, is_grad_enabled, version_counter


class SetItem(Function):
    """old with old[idx] replaced by `value` (already of the indexed shape and old's dtype), written into old's own
    storage. Gradients: the incoming one with zeros at idx for old, its values at idx for `value`."""

    saves_inputs = saves_output = False

    def forward(self, a, value, idx=None):
        self.idx = idx
        B.setitem(a, idx, value)
        return a

    def backward(self, g):
        need_old, need_value = self.needs_input_grad
        idx = self.idx
        if idx is Ellipsis:  # all overwritten: the old values get zeros (not None), as in PyTorch
            return (B.zeros(g.shape, g.dtype) if need_old else None), (g if need_value else None)
        g_old = None
        if need_old:
            g_old = B.copy(g)
            part = B.getitem(g_old, idx)
            B.setitem(g_old, idx, B.zeros(part.shape, g.dtype))
        return g_old, (B.getitem(g, idx) if need_value else None)


def _ghost(t, copy=False):
    """A Tensor standing for t's current value and history: over t's storage (sharing its version counter), or over a
    copy when the op computing the new values saves them for its backward."""
    g = Function.tensor_type._wrap(B.copy(t.array) if copy else t.array, t.requires_grad)
    g.grad_fn = t.grad_fn
    if not copy:
        g._vc = version_counter(t)
    return g


def _fit(value, shape, dtype, name):
    """value broadcast to `shape` (leading size-1 dims dropped first, as PyTorch does) and cast to `dtype`."""
    while value.ndim > len(shape) and value.shape[0] == 1:
        value = value.reshape(value.shape[1:])
    vs = value.shape
    ok = len(vs) <= len(shape) and all(a in (1, b) for a, b in zip(vs[::-1], shape[::-1], strict=False))
    if not ok:
        raise ValueError(f"{name}: value of shape {vs} cannot be broadcast to the indexed shape {tuple(shape)}")
    if value.dtype != dtype:
        value = value.astype(dtype)
    return value.expand(shape) if vs != tuple(shape) else value


def update(t, name, compute, idx=Ellipsis, saves_old=False, exact=False):
    """Replace t[idx] by compute(old), where `old` stands for t's current value; returns t.

    The change is written into t's storage and bumps its version. When grad mode is on and t or the new values require
    grad, it is recorded: t's grad_fn becomes a SetItem node. `saves_old`: compute's ops keep old's array for their
    backward (mul_, div_), so they get a copy. `exact`: the result must already have t's shape and a dtype that casts
    to t's without loss of kind (arithmetic in-place ops), as in PyTorch."""
    grad = is_grad_enabled()
    if grad and t.requires_grad and t.grad_fn is None:
        raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place operation; "
                           "do it under tr.no_grad() (initialisation, optimizer updates) or on p.data")
    old = _ghost(t, copy=saves_old) if grad else t
    value = compute(old)
    if exact:
        if value.shape != t.shape:
            raise ValueError(f"{name}: output with shape {t.shape} doesn't match the broadcast shape {value.shape}")
        if B.is_floating(value.dtype) and not B.is_floating(t.dtype):
            raise TypeError(f"{name}: result type {_name(value.dtype)} can't be cast to the desired output type "
                            f"{_name(t.dtype)}")
    shape = t.shape if idx is Ellipsis else tuple(B.getitem(t.array, idx).shape)
    value = _fit(value, shape, t.dtype, name)
    if not (grad and (t.requires_grad or value.requires_grad)):
        B.setitem(t.array, idx, value.array)
        bump_version(t)
        return t
    if getattr(t, "_view", False):
        raise RuntimeError(f"{name}: an in-place change of a view (made by indexing, reshape, view, permute, transpose "
                           "or expand) is not recorded in the graph here; write through the base tensor instead "
                           "(x[i, j] = v rather than x[i][j] = v), or clone the view first")
    bump_version(t)
    store = old if not saves_old else _ghost(t)
    out = SetItem.apply(store, value, idx=idx)
    node = out.grad_fn
    node.previous = store
    t.grad_fn, t.requires_grad = node, True
    return t


def _name(dtype):
    return {"float32": "Float", "float64": "Double", "int64": "Long", "bool": "Bool"}.get(
        str(dtype).split(".")[-1], str(dtype))
