"""Function (forward/backward on backend arrays), grad mode, graph tags, anomaly mode and the iterative
backward engine. Imports: backend, helpers. Tensors are only touched through `.array`, `.grad`,
`.requires_grad`, `.grad_fn` and the factory `tensor_type._wrap`.

Graph API (what visualize/ reads):
  tensor.grad_fn          -> the Function that made the tensor, None for leaves
  fn.name                 -> e.g. "MatMul", "LSTMCell"
  fn.parents              -> the input Tensors, in order
  fn.tag                  -> dict set by `tag(...)` while the op ran: module, layer, direction, step, ...
  fn.out_shape, fn.dtype  -> the result's shape and dtype
  fn.released             -> True once backward freed the saved arrays
  fn.grad_norms           -> per parent, the norm of the gradient sent along that edge (None for no gradient),
  fn.out_grad_norm           and the norm of the gradient that reached the result; both are filled in only by
                             a backward run inside `record_grad_norms()`.

The engine sums a node's incoming gradients before its backward runs (lazy IndexGrad/OuterGrad sums, in place
into a gradient its producer marked fresh) and lets a node with `chain` run its predecessors' backward in the same
loop (a recurrent layer direction's steps; not while recording norms or detecting anomalies).
"""

import contextlib
import os
import traceback

from . import backend as B

_state = {"grad": True, "anomaly": False, "record_norms": False}
_tag = {}
_META = frozenset(("parents", "needs_input_grad", "tag", "out_shape", "dtype", "released", "grad_norms",
                   "out_grad_norm", "created_at", "retained", "inplace_hint", "epoch", "previous"))
_META_ORDER = tuple(sorted(_META))


def is_grad_enabled():
    return _state["grad"]


@contextlib.contextmanager
def _set_state(key, value):
    old = _state[key]
    _state[key] = value
    try:
        yield
    finally:
        _state[key] = old


def no_grad():
    """Context manager: ops run without recording a graph (inference, optimizer updates)."""
    return _set_state("grad", False)


def enable_grad():
    return _set_state("grad", True)


def detect_anomaly():
    """Context manager: a NaN or Inf made in forward or backward raises at once, naming the op and the
    line of user code that created it. Slower: every op checks its result and records a stack."""
    return _set_state("anomaly", True)


def record_grad_norms():
    """Context manager: a backward run inside it stores gradient norms on every graph edge, for visualize/."""
    return _set_state("record_norms", True)


class tag:
    """Context manager that labels the graph nodes made inside it, merged over any enclosing tag:
    `with tr.tag(module="rnn", layer=0, direction=0, step=t): ...`. Layers use it so tools can lay
    the graph out in time; keys are free-form."""

    __slots__ = ("items", "old")

    def __init__(self, **items):
        self.items = items

    def __enter__(self):
        global _tag
        self.old = _tag
        _tag = {**_tag, **self.items}
        return self

    def __exit__(self, *exc):
        global _tag
        _tag = self.old


def current_tag():
    return _tag


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_frame():
    """The innermost stack frame outside this package: where the user's code made the op. (Matched on the
    package's own directory, so a checkout or project that is itself named tinygrad_rnn still counts as user code.)"""
    stack = traceback.extract_stack()[:-2]
    for frame in reversed(stack):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    return f"{stack[-1].filename}:{stack[-1].lineno}" if stack else "<unknown>"


# ----- versions (in-place changes; the machinery that makes them is inplace.py)
_epoch = 0  # bumped by every in-place change of any tensor; each recorded Function keeps the value it was made at


class VersionCounter:
    """Shared by the tensors over one storage (.data, detach(), views): `version` counts in-place changes, `epoch` is
    the global epoch of the latest, `recent` the epochs of the last few (to name the version a Function saved)."""

    __slots__ = ("version", "epoch", "recent")

    def __init__(self):
        self.version, self.epoch, self.recent = 0, 0, []


def version_counter(t):
    """t's counter, made on first need. A Function that saves its result learns of it then (`out_vc`): changes made
    through any tensor sharing that storage are seen by its backward."""
    vc = getattr(t, "_vc", None)
    if vc is None:
        vc = t._vc = VersionCounter()
        fn = t.grad_fn
        if fn is not None and fn.saves_output and "out_vc" not in fn.__dict__:
            fn.out_vc = (vc, 0)
    return vc


def bump_version(t):
    """Record an in-place change of t's storage (the caller writes the values)."""
    global _epoch
    vc = version_counter(t)
    _epoch += 1
    vc.version += 1
    vc.epoch = _epoch
    vc.recent = vc.recent[-15:] + [_epoch]


def _modified_error(what, vc, fn):
    later = sum(1 for e in vc.recent if e > fn.epoch)
    known = later < len(vc.recent) or len(vc.recent) == vc.version  # every later change is among the recent
    exp = f"expected version {vc.version - later}" + ("" if known else " or less")
    return RuntimeError(f"one of the variables needed for gradient computation has been modified by an inplace "
                        f"operation: [{what}] is at version {vc.version}; {exp} instead. (An in-place op, x[i] = v "
                        "or a write through .data changed it after it was used; use an out-of-place op or clone().)")


def _as_of(p, epoch):
    """The tensor standing for p's value when a Function made at `epoch` used it: an in-place op after that gave p a
    new grad_fn; the old one lives on in the `previous` tensor the in-place node keeps."""
    fn = p.grad_fn
    while fn is not None and fn.epoch > epoch and fn.previous is not None:
        p = fn.previous
        fn = p.grad_fn
    return p


def _edges(fn):
    return tuple(_as_of(p, fn.epoch) for p in fn.parents)


def _parents_now(fn):
    """fn's parents as they were when fn was made, after checking that what its backward saved is unchanged
    (called only when an in-place change happened after fn was made)."""
    parents = _edges(fn)
    if fn.saves_inputs:
        for i, p in enumerate(parents):
            vc = getattr(p, "_vc", None)
            if vc is not None and vc.epoch > fn.epoch and (fn.saves_inputs is True or i in fn.saves_inputs):
                raise _modified_error(f"tensor of shape {tuple(p.shape)}, input {i} of {fn.name}", vc, fn)
    out = fn.__dict__.get("out_vc")
    if out is not None and out[0].version != out[1]:
        raise _modified_error(f"tensor of shape {tuple(fn.out_shape)}, output 0 of {fn.name}", out[0], fn)
    return parents


class Function:
    """One differentiable op. Subclasses define forward(*arrays, **kw) -> array and backward(grad) ->
    one gradient per parent (None where `needs_input_grad` is False); they save what backward needs on self."""

    tensor_type = None  # set by tensor.py (the Tensor class), to avoid an import cycle
    released = False    # True once backward freed the saved arrays
    retained = None     # a weakref to the result Tensor once it called retain_grad()
    chain = None        # optional chain(grad, pending) -> (parents, grads, fresh index, Functions done) or None: run
                        # this node's backward and its predecessors' in one loop (recurrent steps; see kernels/chain.py)
    fresh_grad = -1     # index of a parent whose dense gradient backward always makes afresh and holds nowhere
                        # else (a recurrent step's state): the engine may add other gradients into it in place
    saves_inputs = True   # backward reads the input arrays (True, or a tuple of indices): checked against in-place
    saves_output = True   # changes (versions) when backward runs; ops that save nothing say False
    views_input = False   # the result may share parents[0]'s storage (a view): it shares its version counter
    previous = None       # on an in-place node: the tensor standing for the old value of the tensor it changed
    epoch = 0             # the global in-place epoch when the Function was made

    @property
    def name(self):
        return type(self).__name__

    @classmethod
    def apply(cls, *parents, **kwargs):
        fn = cls.__new__(cls)
        fn.needs_input_grad = needs = tuple([p.requires_grad for p in parents])
        requires = _state["grad"] and True in needs
        out = fn.forward(*[p.array for p in parents], **kwargs)
        if _state["anomaly"]:
            fn.created_at = _user_frame()
            if B.is_floating(out.dtype) and not B.all_finite(out):
                raise RuntimeError(f"detect_anomaly: {fn.name} produced NaN or Inf in forward; "
                                   f"op created at {fn.created_at}")
        result = cls.tensor_type._wrap(out, requires)
        if cls.views_input and fn.is_view(kwargs):
            result._vc, result._view = version_counter(parents[0]), True
        if requires:
            fn.epoch = _epoch
            fn.parents = parents
            fn.tag = _tag
            fn.out_shape = out.shape
            fn.dtype = out.dtype
            fn.released = False
            result.grad_fn = fn
        return result

    def is_view(self, kwargs):
        return True

    def forward(self, *arrays, **kwargs):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    def release(self):
        """Drop the arrays saved for backward, keeping the graph's structure and metadata."""
        d = self.__dict__
        self.__dict__ = {k: d[k] for k in _META_ORDER if k in d}
        self.released = True

    def __repr__(self):
        return f"<{self.name} {tuple(self.out_shape)}{' ' + str(self.tag) if self.tag else ''}>"


def topological_order(root_fn):
    """Functions reachable from `root_fn`, each after all Functions that feed it. Iterative: an unrolled
    graph can be many thousands of nodes deep. (Functions hash by identity: they are their own keys.)"""
    order, visited, now = [], {root_fn}, _epoch
    stack = [(root_fn, iter(_edges(root_fn) if root_fn.epoch < now else root_fn.parents))]
    append, pop = stack.append, stack.pop
    while stack:
        fn, parents = stack[-1]
        for p in parents:
            g = p.grad_fn
            if g is not None and g not in visited:
                visited.add(g)
                append((g, iter(_edges(g) if g.epoch < now else g.parents)))
                break
        else:
            pop()
            order.append(fn)
    return order


def _norm(a):
    return float(B.to_host(B.xp.sqrt(B.xp.sum(a * a))))


class IndexGrad:
    """A gradient that is zero except `values` at the basic index `idx` (ints and slices). Returning it from
    backward lets x[t] over T steps cost O(T) instead of T full-size zero arrays. `base` (optional): an array of the
    full gradient's shape of which `values` is the view base[idx], idx = (t, ...); when the IndexGrads reaching one
    tensor cover every t of one base exactly once, the engine takes the base itself as the gradient (no copies)."""

    __slots__ = ("idx", "values", "base")

    def __init__(self, idx, values, base=None):
        self.idx, self.values, self.base = idx, values, base


class OuterGrad:
    """A gradient equal to left.T @ right (2-D). The engine collects these per input and multiplies once:
    the T per-step contributions to a shared recurrent weight become one (G*H, T*N) @ (T*N, H) product.
    `span` (optional) = (left_base, right_base, i, j): left is left_base[i] and right is right_base[j]; when the
    spans of one input run over consecutive i with a fixed j - i, the product reads the bases' slices (no concat)."""

    __slots__ = ("left", "right", "span")

    def __init__(self, left, right, span=None):
        self.left, self.right, self.span = left, right, span


def _joined_spans(spans):
    """(left, right) 2-D views over the bases when `spans` are consecutive steps of one pair of bases, else None."""
    lb, rb, i0, j0 = spans[0]
    off, idx = j0 - i0, set()
    for s in spans:
        if s is None or s[0] is not lb or s[1] is not rb or s[3] - s[2] != off:
            return None
        idx.add(s[2])
    lo, hi = min(idx), max(idx)
    if hi - lo + 1 != len(spans) or len(idx) != len(spans):
        return None
    left, right = lb[lo:hi + 1, ...], rb[lo + off:hi + 1 + off, ...]
    return B.reshape(left, (-1, left.shape[-1])), B.reshape(right, (-1, right.shape[-1]))


class _Accumulator:
    """Sum of the gradients reaching one tensor: dense arrays, IndexGrads (added in place into a buffer we
    own, or taken whole when they tile a base) and OuterGrads (kept as factors until the value is needed).
    After value(), `owned` says whether the result is a fresh array nobody else holds."""

    __slots__ = ("shape", "dtype", "dense", "owned", "lefts", "rights", "spans", "based", "indexed")

    def __init__(self, shape, dtype):
        self.shape, self.dtype, self.dense, self.owned = shape, dtype, None, False
        self.lefts, self.rights, self.spans, self.based, self.indexed = [], [], [], [], []

    def add(self, d):
        if isinstance(d, OuterGrad):
            self.lefts.append(d.left)
            self.rights.append(d.right)
            self.spans.append(d.span)
        elif isinstance(d, IndexGrad):
            (self.indexed if d.base is None else self.based).append(d)
        elif self.dense is None:
            self.dense = d
        elif self.owned and d.dtype == self.dense.dtype and tuple(d.shape) == tuple(self.dense.shape):
            self.dense += d  # our own buffer: add in place, no new array per incoming gradient
        else:
            self.dense = self.dense + d
            self.owned = True

    def added(self, d):
        self.add(d)
        return self

    def _own(self, dtype):
        if not self.owned:
            self.dense = B.zeros(self.shape, dtype) if self.dense is None else B.copy(self.dense)
            self.owned = True

    def _take_based(self):
        based, base = self.based, self.based[0].base
        steps = {d.idx[0] for d in based if d.base is base and len(d.idx) == 2 and d.idx[1] is Ellipsis}
        if len(steps) == len(based) == base.shape[0] and tuple(base.shape) == tuple(self.shape):
            if self.dense is None:
                self.dense = base  # every step's slice is already in place: the base is the gradient
                return
            self._own(base.dtype)
            self.dense += base
            return
        self._own(base.dtype)
        for d in based:
            B.add_at_index(self.dense, d.idx, d.values)

    def single_index(self):
        """(idx, values) when all that arrived is one IndexGrad without a base, else None."""
        if self.dense is None and not self.based and not self.lefts and len(self.indexed) == 1:
            d = self.indexed[0]
            return d.idx, d.values
        return None

    def add_into(self, out):
        """out += the gradient held here, in place; `out` is a fresh full-size array only the caller holds (no sum
        made in a new array first)."""
        if self.based or self.lefts:
            out += self.value()
            return
        if self.dense is not None:
            out += self.dense
        for d in self.indexed:
            B.add_at_index(out, d.idx, d.values)

    def value(self):
        if self.based:
            self._take_based()
        if self.indexed:
            self._own(self.indexed[0].values.dtype)
            for d in self.indexed:
                B.add_at_index(self.dense, d.idx, d.values)
            self.indexed = []
        out = self.dense
        if self.lefts:
            xp = B.xp
            joined = _joined_spans(self.spans) if len(self.spans) > 1 and self.spans[0] is not None else None
            if joined is not None:
                left, right = joined
            else:
                left = self.lefts[0] if len(self.lefts) == 1 else xp.concat(self.lefts, axis=0)
                right = self.rights[0] if len(self.rights) == 1 else xp.concat(self.rights, axis=0)
            prod = xp.matmul(xp.permute_dims(left, (1, 0)), right)
            if out is None:
                out = prod
            elif self.owned and out.dtype == prod.dtype and tuple(out.shape) == tuple(prod.shape):
                out += prod
            else:
                out = out + prod
            self.owned = True
        return out


def _check_not_released(order):
    for fn in order:
        if fn.released:
            raise RuntimeError(
                "Trying to backward through the graph a second time: its saved arrays were freed by the first "
                "backward. Pass retain_graph=True to the first backward() if you need two; to carry a hidden "
                "state into the next batch, cut it from the old graph with h = h.detach()."
            )


def backward(root, grad, retain_graph=False):
    """Reverse-mode sweep from `root` (a Tensor) seeded with `grad` (a backend array of root's shape).
    Each Function's backward runs once, after every gradient reaching its result has been summed."""
    record = _state["record_norms"]
    anomaly = _state["anomaly"]
    if root.grad_fn is None:
        _accumulate_leaf(root, grad)
        return
    order = topological_order(root.grad_fn)
    _check_not_released(order)
    # acc: Function -> the gradient of its result so far: a bare array while exactly one dense gradient has arrived
    # (the common case: no accumulator object, no copy), else an _Accumulator.
    acc = {root.grad_fn: grad}
    leaves = {}
    pop, Acc, now = acc.pop, _Accumulator, _epoch
    plain = not record and not anomaly
    # B.quiet(): an inf or NaN gradient is a value, as in PyTorch, not a NumPy warning; detect_anomaly() finds it.
    with _set_state("grad", False), B.quiet():
        for fn in reversed(order):
            a = pop(fn, None)
            if a is None:
                continue
            g = a.value() if type(a) is Acc else a
            if fn.retained is not None:
                t = fn.retained()
                if t is not None:
                    t.grad = cls_tensor()._wrap(g if t.grad is None else t.grad.array + g, False)
            stale = fn.epoch < now  # an in-place change since fn was made: check what it saved, find its old parents
            chained = fn.chain(g, acc) if fn.chain is not None and plain and not stale else None
            if chained is not None:  # fn and the earlier steps of its chain ran; their lazy gradients, summed
                parents, in_grads, fresh, done = chained
                if not retain_graph:
                    for f in done:
                        f.release()
                for i, d in enumerate(in_grads):
                    _route(parents[i], d, i == fresh, acc, leaves)
                continue
            parents = _parents_now(fn) if stale else fn.parents
            in_grads = fn.backward(g)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if len(in_grads) != len(parents):
                raise RuntimeError(f"{fn.name}.backward returned {len(in_grads)} gradients for "
                                   f"{len(parents)} inputs")
            if record:
                fn.out_grad_norm = _norm(g)
                fn.grad_norms = tuple(None if d is None else _norm(_dense(d, p))
                                      for d, p in zip(in_grads, parents, strict=True))
            if anomaly:
                for d, p in zip(in_grads, parents, strict=True):
                    if d is not None and not B.all_finite(_dense(d, p)):
                        raise RuntimeError(f"detect_anomaly: {fn.name} produced NaN or Inf in backward; "
                                           f"op created at {fn.__dict__.get('created_at', '<unknown>')}")
            fresh, need = fn.fresh_grad, fn.needs_input_grad
            for i, d in enumerate(in_grads):
                if d is not None and need[i]:
                    _route(parents[i], d, i == fresh, acc, leaves)
            if not retain_graph:
                fn.release()
    # Leaves are written once, at the end, so their lazy per-step gradients become one product.
    for p, a in leaves.values():
        g = a.value()
        _accumulate_leaf(p, g, a.owned)


def _route(p, d, fresh, acc, leaves):
    """Add gradient d (an array, IndexGrad or OuterGrad) to what tensor p has received so far (acc: by producing
    Function, leaves: by tensor); `fresh`: d is a new array only this edge holds, so others may be summed into it."""
    pfn = p.grad_fn
    if pfn is None:
        la = leaves.get(id(p))
        if la is None:
            la = leaves[id(p)] = (p, _Accumulator(p.shape, p.dtype))
        la[1].add(d)
        return
    target = acc.get(pfn)
    td = type(d)
    lazy = td is IndexGrad or td is OuterGrad
    if target is None:
        acc[pfn] = _Accumulator(p.shape, p.dtype).added(d) if lazy else d
    elif type(target) is _Accumulator:
        target.add(d)
    elif fresh and not lazy and d.dtype == target.dtype and d.shape == target.shape:
        d += target
        acc[pfn] = d
    else:
        acc[pfn] = _Accumulator(p.shape, p.dtype).added(target).added(d)


def _dense(d, p):
    """The array a lazy gradient stands for (used only by the optional norm and anomaly checks)."""
    if isinstance(d, (IndexGrad, OuterGrad)):
        a = _Accumulator(p.shape, p.dtype)
        a.add(d)
        return a.value()
    return d


def cls_tensor():
    return Function.tensor_type


def _accumulate_leaf(t, g, owned=False):
    if not t.requires_grad:
        return
    if t.grad is None:
        # Own the gradient buffer: `g` may be a view of another array or shared by two edges (unless the
        # accumulator made it afresh).
        t.grad = cls_tensor()._wrap(g if owned else B.copy(g), False)
    else:
        t.grad.array = t.grad.array + g
