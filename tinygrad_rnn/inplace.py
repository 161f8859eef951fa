"""In-place changes of a tensor's storage (x[idx] = v, add_, copy_, ...): the SetItem Function, the rules that PyTorch
applies (no in-place change of a leaf that requires grad, the change recorded in the graph when grad is involved),
version bumps, and Tensor's in-place methods and .data (InplaceMixin). Imports: helpers, backend, versions,
autograd, checks, ops. Tensors are handled through their methods (expand, astype, ...) and Function.tensor_type.

How a recorded change works: the new values are computed out of place from a stand-in for the old tensor (a "ghost":
a Tensor object over the same storage with the old grad_fn), then SetItem writes them into the storage and becomes
the tensor's grad_fn; its `previous` is the ghost, so Functions made before the change still reach the old history
(versions.inputs_of), and the version counter tells the backward of any Function whose saved arrays were overwritten.
"""

import warnings

from . import backend as B
from . import checks, versions
from .autograd import Function, is_grad_enabled
from .helpers import broadcast_shape
from .ops import GetItem as _GetItem
from .versions import bump_version, mark_recorded, version_counter


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
    t.array = B.writable(t.array)
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
    if getattr(t, "_view", None) is not None:
        return _through_view(t, name, old, value, idx)
    bump_version(t)
    store = old if not saves_old else _ghost(t)
    out = SetItem.apply(store, value, idx=idx)
    node = out.grad_fn
    node.previous = store
    t.grad_fn, t.requires_grad = node, True
    mark_recorded(t)  # only now: a view refreshed while SetItem was being made would see t's old grad_fn
    return t


def _through_view(t, name, old, value, idx):
    """A recorded change of a view t (x[i] += v is x[i].__iadd__(v), then x[i] = that): as in PyTorch, the write
    is recorded on the base tensor the view was made from, and t becomes a view of the base's new version (other
    views of that base made earlier follow on their next use: refresh_view)."""
    if idx is not Ellipsis:  # t's whole new value: t with t[idx] = value, out of place
        value = SetItem.apply(_ghost(t, copy=True), value, idx=idx)
    root, where = _root_index(t, name)
    update(root, name, lambda _: value, idx=where)
    B.setitem(t.array, Ellipsis, value.array)  # a no-op when t shares the base's memory, else t's own copy
    node = _GetItem.apply(root, idx=where).grad_fn
    node.previous = old
    t.grad_fn, t.requires_grad = node, True
    t._view = t._view[:3] + (versions.epoch,)
    return t


def refresh_view(t):
    """t is a view whose base was changed by a recorded op after t was made: t's values are already the new ones
    (shared memory), so give it the matching history, a GetItem of the base's new version (PyTorch regenerates a
    view's grad_fn the same way). Uses of t made before keep its old history (`previous`)."""
    if not is_grad_enabled():
        return  # nothing is recorded now; the next recorded use refreshes it
    root, where = _root_index(t, "view", unique=False)
    old = _ghost(t)
    node = _GetItem.apply(root, idx=where).grad_fn
    if node is not None:
        node.previous = old
        t.grad_fn, t.requires_grad = node, True
    t._view = t._view[:3] + (versions.epoch,)


Function.refresh_view = staticmethod(refresh_view)


def _root_index(t, name, unique=True):
    """(the tensor t is a view of, through any chain of views; an integer-array index of that tensor that gives t).
    `unique`: refuse a view with repeated elements (it cannot be written)."""
    chain = []
    while getattr(t, "_view", None) is not None:
        chain.append(t._view)
        t = t._view[0]
    n = 1
    for s in t.shape:
        n *= s
    pos = B.reshape(B.arange(n, dtype=B.int64), t.shape)
    for _, cls, kwargs, _ in reversed(chain):
        pos = cls.forward(cls.__new__(cls), pos, **kwargs)
    host = B.to_host(pos)
    if unique and B.np.unique(host).size != host.size:
        raise RuntimeError(f"{name}: unsupported operation: more than one element of the written-to tensor refers to "
                           "a single memory location (an expanded view); clone() it first")
    if t.ndim == 0:
        return t, Ellipsis
    return t, tuple(B.asarray(i) for i in B.np.unravel_index(host, t.shape))


def scaled_args(name, other, alpha):
    """(other, alpha) of add_/sub_, also from PyTorch's deprecated order x.add_(number, tensor) (old tutorials write
    p.data.add_(-lr, p.grad)), which PyTorch still runs with a warning."""
    if isinstance(alpha, Function.tensor_type) and isinstance(other, (int, float)) and not isinstance(other, bool):
        warnings.warn(f"{name}(Number alpha, Tensor other) is deprecated, as in PyTorch: use {name}(other, alpha=...)",
                      UserWarning, stacklevel=3)
        return alpha, other
    return other, alpha


def _name(dtype):
    name = B.dtype_name(dtype)
    return {"float32": "Float", "float64": "Double", "int64": "Long", "bool": "Bool"}.get(name, name)


def restride(t, name, view):
    """t takes the shape that view(t) has, over the same storage (unsqueeze_, squeeze_, t_, transpose_); returns t.
    Only the shape changes, so no version bump; with grad involved t's grad_fn becomes the view's node. The view is
    taken of a ghost of the old t, which keeps t's own view chain, so a t that is a view of a base stays one (a
    later write through t still reaches the base), as in PyTorch."""
    grad = is_grad_enabled() and t.requires_grad
    if grad and t.grad_fn is None:
        raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place operation; "
                           f"use the out-of-place {name[:-1]} instead")
    ghost = _ghost(t)
    ghost._view = getattr(t, "_view", None)
    new = view(ghost)
    t.array = new.array
    if ghost._view is not None:
        t._view = new._view
    if grad:
        t.grad_fn = new.grad_fn
    return t


class InplaceMixin:
    """Tensor's storage and in-place methods. Each returns self and bumps the version; with grad involved the change
    is recorded in the graph (x's grad_fn becomes the in-place node), as in PyTorch. (x[idx] = v is in tensor.py,
    beside x[idx].)"""

    __slots__ = ()

    @property
    def data(self):
        """A Tensor over the same storage, without grad (PyTorch's .data): p.data.add_(p.grad, alpha=-lr) updates p.
        Assigning a Tensor (p.data = w) makes p use w's storage; the shape may change."""
        t = self._wrap(self.array, False)
        t._vc = version_counter(self)
        return t

    @data.setter
    def data(self, other):
        if not isinstance(other, Function.tensor_type):
            raise TypeError(f"data: expected a Tensor, got {type(other).__name__}")
        self.array = other.array

    @property
    def _version(self):
        vc = getattr(self, "_vc", None)
        return 0 if vc is None else vc.version


    def copy_(self, src):
        """Copy src's values into self, broadcasting src to self's shape and converting its dtype."""
        src = src if isinstance(src, Function.tensor_type) else self._as_tensor(src, self.dtype)
        return update(self, "copy_", lambda old: src)

    def fill_(self, value):
        value = value if isinstance(value, Function.tensor_type) else self._as_tensor(value, self.dtype)
        if value.ndim:
            raise ValueError(f"fill_: expected a number or a 0-dim tensor, got shape {value.shape}")
        return update(self, "fill_", lambda old: value)

    def zero_(self):
        return self.fill_(0)

    def add_(self, other, alpha=1):
        other, alpha = scaled_args("add_", other, alpha)
        return update(self, "add_", lambda old: old + (other if alpha == 1 else other * alpha), exact=True)

    def sub_(self, other, alpha=1):
        other, alpha = scaled_args("sub_", other, alpha)
        return update(self, "sub_", lambda old: old - (other if alpha == 1 else other * alpha), exact=True)

    def mul_(self, other):
        return update(self, "mul_", lambda old: old * other, saves_old=True, exact=True)

    def div_(self, other):
        return update(self, "div_", lambda old: old / other, saves_old=True, exact=True)

    def clamp_(self, min=None, max=None):
        return update(self, "clamp_", lambda old: old.clip(min, max), exact=True)

    clip_ = clamp_

    def relu_(self):
        return update(self, "relu_", lambda old: old.relu(), exact=True)

    def masked_fill_(self, mask, value):
        """self[i] = value wherever the boolean `mask` (broadcast to self's shape) is True."""
        m = self._as_tensor(mask)
        if m.dtype != B.bool_:
            raise TypeError(f"masked_fill_: expected a boolean mask, got dtype {str(m.dtype).split('.')[-1]}")
        if broadcast_shape(m.shape, self.shape) != self.shape:
            raise ValueError(f"masked_fill_: mask of shape {m.shape} does not broadcast to shape {self.shape}")
        if isinstance(value, Function.tensor_type) and value.ndim:
            raise ValueError(f"masked_fill_: expected a number or a 0-dim tensor as value, got shape {value.shape}")
        return update(self, "masked_fill_", lambda old: old._const(value).where(m, old))

    def uniform_(self, a=0.0, b=1.0):
        checks.reals("uniform_", a=a, b=b)
        if not a <= b:
            raise ValueError(f"uniform_: expected a range [a, b) with a <= b, got a={a} and b={b}")
        host = B.host_rng().uniform(a, b, self.shape)
        return self.copy_(self._wrap(B.asarray(host, dtype=self.dtype), False))

    def normal_(self, mean=0.0, std=1.0):
        checks.reals("normal_", mean=mean, std=std)
        if not std >= 0:
            raise ValueError(f"normal_: expected std >= 0, got std={std}")
        host = B.host_rng().normal(mean, std, self.shape)
        return self.copy_(self._wrap(B.asarray(host, dtype=self.dtype), False))

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    # in-place shape changes: the same storage seen with another shape (target.unsqueeze_(-1), as the tutorials do)
    def unsqueeze_(self, dim):
        return restride(self, "unsqueeze_", lambda old: old.unsqueeze(dim))

    def squeeze_(self, dim=None):
        return restride(self, "squeeze_", lambda old: old.squeeze() if dim is None else old.squeeze(dim))

    def transpose_(self, dim0, dim1):
        return restride(self, "transpose_", lambda old: old.transpose(dim0, dim1))

    def t_(self):
        return restride(self, "t_", lambda old: old.t())
