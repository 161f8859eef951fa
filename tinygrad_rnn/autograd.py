"""Function (forward/backward on backend arrays), the modes (grad mode, tags, anomaly detection, gradient-norm
recording, primitive twins: one Modes value per thread and asyncio task), in-place versions and the iterative backward
engine. Imports: backend, grads, helpers, versions. Tensors are only touched through `.array`, `.grad`,
`.requires_grad`, `.grad_fn` and the factory `tensor_type._wrap`.

Graph API (what visualize/ reads):
  tensor.grad_fn          -> the Function that made the tensor, None for leaves
  fn.name                 -> e.g. "MatMul", "LSTMCell"
  fn.parents              -> the input Tensors, in order (inputs_of(fn): the same, with any input changed in place
                             since replaced by the tensor standing for the value fn used)
  fn.tag                  -> dict set by `tag(...)` while the op ran: module, layer, direction, step, ...
  fn.out_shape, fn.dtype  -> the result's shape and dtype
  fn.released             -> True once backward freed the saved arrays
  fn.grad_norms           -> per parent, the norm of the gradient sent along that edge (None for no gradient),
  fn.out_grad_norm           and the norm of the gradient that reached the result; both are filled in only by
                             a backward run inside `record_grad_norms()`.
  fn.steps                -> on a node that runs a layer direction's recurrent steps (kernels/fused.py Run, e.g.
                             "LSTMCellRun"): one record per step in the order run, each with the name, tag (with
                             "step"), out_shape, dtype, released, grad_norms and out_grad_norm a step node would
                             have; step k reads parents[0], the state step k-1 wrote (parents[1] for k = 0) and
                             parents[2:]; the node's result stacks the states in time order. Elsewhere None.
  fn.reads_steps          -> True on the layer output made from Run nodes (StackRuns): it reads every step's state
  fn.step_grad_norms         (an edge from each step when drawn); after a recorded backward step_grad_norms holds,
                             per Run parent, the norm of each step's slice of the gradient (in time order).

The engine sums a node's incoming gradients before its backward runs (lazy IndexGrad/OuterGrad/RowsGrad sums, in
place into a gradient its producer marked fresh; a node with lazy_grad takes the parts unsummed: a Run its steps'
slices, an embedding the RowsGrads of the linear maps that read it). Norm recording and anomaly
checks are hooks on each node.
"""

import contextlib
import contextvars
import os
import traceback
import typing

from . import backend as B
from . import versions as V
from .grads import IndexGrad, OuterGrad, Pending, dense_grad  # noqa: F401  (IndexGrad, OuterGrad: for Functions)
from .helpers import getenv
from .versions import bump_version, inputs_of, mark_recorded, version_counter  # noqa: F401  (also public here)

# ----- modes
# Every mode lives in ONE immutable Modes value held by a context variable: each thread (and each asyncio task, which
# runs in a copy of its creator's context) sees and changes only its own, as PyTorch keeps grad mode per thread. A
# block sets a changed copy and restores the old value on exit; Function.apply reads the modes with one get().


class Modes(typing.NamedTuple):
    """grad: record graphs; anomaly: detect_anomaly(); record_norms: record_grad_norms(); primitives:
    use_primitives() (recurrent steps built from primitive ops); tag: the dict tag() merges for new graph nodes
    (never changed in place: tag() makes a new one)."""

    grad: bool = True
    anomaly: bool = False
    record_norms: bool = False
    primitives: bool = False
    tag: dict = {}  # noqa: RUF012  (shared, never mutated)


_PRIMITIVES_ENV = getenv("TINYGRAD_RNN_FUSED", "1", {"", "0", "1", "true", "false", "yes", "no", "on", "off"}) in {
    "0", "false", "no", "off"}
_modes = contextvars.ContextVar("tinygrad_rnn.modes", default=Modes(primitives=_PRIMITIVES_ENV))  # noqa: B039
modes = _modes.get  # the current thread's / task's Modes (a hot path: one call)


class _ModeBlock(contextlib.ContextDecorator):
    """Context manager (and decorator) that sets some modes for the current thread or task until it exits."""

    def __init__(self, **changes):
        self.changes, self.saved = changes, []

    def _recreate_cm(self):  # as a decorator: a fresh block per call, so threads and recursion never share one
        return type(self)(**self.changes)

    def _changed(self, cur):
        return cur._replace(**self.changes)

    def __enter__(self):
        cur = _modes.get()
        self.saved.append((_modes.set(self._changed(cur)), cur))
        return self

    def __exit__(self, *exc):
        token, old = self.saved.pop()
        try:
            _modes.reset(token)
        except ValueError:  # exited in another context than it entered (a generator moved between tasks)
            _modes.set(old)


def _flag(op, name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{op}: expected {name} to be a bool, got {type(value).__name__}")
    return value


def is_grad_enabled():
    return _modes.get().grad


def no_grad():
    """Context manager (or decorator): ops run without recording a graph (inference, optimizer updates). Per thread."""
    return _ModeBlock(grad=False)


def enable_grad():
    return _ModeBlock(grad=True)


class set_grad_enabled(_ModeBlock):
    """set_grad_enabled(mode): as a call, sets grad mode for the current thread; as a context manager, restores the
    previous mode on exit (PyTorch's torch.set_grad_enabled)."""

    def __init__(self, mode):
        super().__init__(grad=_flag("set_grad_enabled", "mode", mode))
        self.__enter__()

    def _recreate_cm(self):
        raise TypeError("set_grad_enabled cannot be used as a decorator; use no_grad() or enable_grad()")

    def __enter__(self):
        if not self.saved:  # entered already by __init__
            super().__enter__()
        return self


def detect_anomaly():
    """Context manager: a NaN or Inf made in forward or backward raises at once, naming the op and the
    line of user code that created it. Slower: every op checks its result and records a stack."""
    return _ModeBlock(anomaly=True)


def record_grad_norms():
    """Context manager: a backward run inside it stores gradient norms on every graph edge, for visualize/."""
    return _ModeBlock(record_norms=True)


def use_primitives(flag=True):
    """Context manager: recurrent layers build their steps from primitives (matmul, sigmoid, tanh, slicing), one
    graph node per gate, instead of one fused node per step. Same numbers; slower; drawable. Per thread; also
    TINYGRAD_RNN_FUSED=0 at import for the whole process."""
    return _ModeBlock(primitives=_flag("use_primitives", "flag", flag))


class tag(_ModeBlock):
    """Context manager that labels the graph nodes made inside it, merged over any enclosing tag:
    `with tr.tag(module="rnn", layer=0, direction=0, step=t): ...`. Layers use it so tools can lay
    the graph out in time; keys are free-form."""

    def __init__(self, **items):
        super().__init__(**items)

    def _changed(self, cur):
        return cur._replace(tag={**cur.tag, **self.changes})


def current_tag():
    return _modes.get().tag


_META = frozenset(("parents", "needs_input_grad", "tag", "out_shape", "dtype", "released", "grad_norms",
                   "out_grad_norm", "created_at", "retained", "inplace_hint", "epoch", "previous", "step_info",
                   "step_grad_norms"))
_META_ORDER = tuple(sorted(_META))

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_frame():
    """The innermost stack frame outside this package: where the user's code made the op. (Matched on the
    package's own directory, so a checkout or project that is itself named tinygrad_rnn still counts as user code.)"""
    stack = traceback.extract_stack()[:-2]
    for frame in reversed(stack):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    return f"{stack[-1].filename}:{stack[-1].lineno}" if stack else "<unknown>"


class Function:
    """One differentiable op. Subclasses define forward(*arrays, **kw) -> array and backward(grad) ->
    one gradient per parent (None where `needs_input_grad` is False); they save what backward needs on self. A run
    of recurrent steps is one Function (kernels/fused.py Run). A Function with lazy_grad = True may receive, instead
    of the dense gradient of its result, the engine's Accumulator of the parts that reached it (dense arrays and
    IndexGrads not yet added up: a Run's result gets its steps' slices, which the Run adds where it needs them; no
    array of the whole result is made), unless a hook (record_grad_norms(), detect_anomaly()) or retain_grad() asks
    for the dense one."""

    tensor_type = None  # set by tensor.py (the Tensor class), to avoid an import cycle
    released = False    # True once backward freed the saved arrays
    retained = None     # a weakref to the result Tensor once it called retain_grad()
    lazy_grad = False   # backward may take the gradient of its result as the engine's Accumulator (class docstring)
    steps = None        # the per-step records of a node that runs recurrent steps (Graph API above)
    reads_steps = False
    step_grad_norms = None
    fresh_grad = -1     # index of a parent whose dense gradient backward always makes afresh and holds nowhere
                        # else (a recurrent step's state): the engine may add other gradients into it in place
    saves_inputs = True   # backward reads the input arrays (True, or a tuple of indices): checked against in-place
    saves_output = True   # changes (versions) when backward runs; ops that save nothing say False
    views_input = False   # the result may share parents[0]'s storage (a view): it shares its version counter
    previous = None       # on an in-place node: the tensor standing for the old value of the tensor it changed
    epoch = float("inf")  # the global in-place epoch when the Function was made (apply sets it; a node made by hand
                          # without it is never taken for older than an in-place change: no checks, never wrong ones)
    refresh_view = None   # inplace.refresh_view, set by inplace.py (which sits above autograd)

    @property
    def name(self):
        return type(self).__name__

    @classmethod
    def apply(cls, *parents, **kwargs):
        if V.stale_views:  # as PyTorch regenerates a view's grad_fn after its base changed: see inplace.refresh_view
            for p in parents:
                if getattr(p, "_view", None) is not None and p._vc.recorded > p._view[3]:
                    cls.refresh_view(p)
        fn = cls.__new__(cls)
        fn.needs_input_grad = needs = tuple([p.requires_grad for p in parents])
        m = _modes.get()
        requires = m.grad and True in needs
        out = fn.forward(*[p.array for p in parents], **kwargs)
        if m.anomaly:
            fn.created_at = _user_frame()
            if B.is_floating(out.dtype) and not B.all_finite(out):
                raise RuntimeError(f"detect_anomaly: {fn.name} produced NaN or Inf in forward; "
                                   f"op created at {fn.created_at}")
        result = cls.tensor_type._wrap(out, requires)
        if cls.views_input and fn.is_view(kwargs):  # (base, how, when): an in-place change of the view goes to the base
            vc = result._vc = version_counter(parents[0])
            vc.has_views = True
            result._view = (parents[0], cls, kwargs, V.epoch)
        if requires:
            fn.epoch = V.epoch
            fn.parents = parents
            fn.tag = m.tag
            fn.out_shape = out.shape
            fn.dtype = out.dtype
            fn.released = False
            result.grad_fn = fn
        return result

    def is_view(self, kwargs):
        return True

    def saved_inputs(self):
        """Indices of the inputs whose arrays this node's backward reads (from `saves_inputs`)."""
        s = self.saves_inputs
        return range(len(self.parents)) if s is True else (s or ())

    def _saved_crosswise(self):
        """For a product-like op of two inputs (then maybe a bias): each is read only for the other's gradient."""
        na, nb = self.needs_input_grad[:2]
        return tuple(i for i, need in ((0, nb), (1, na)) if need)

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
    order, visited, now = [], {root_fn}, V.epoch
    stack = [(root_fn, iter(inputs_of(root_fn) if root_fn.epoch < now else root_fn.parents))]
    append, pop = stack.append, stack.pop
    while stack:
        fn, parents = stack[-1]
        for p in parents:
            g = p.grad_fn
            if g is not None and g not in visited:
                visited.add(g)
                append((g, iter(inputs_of(g) if g.epoch < now else g.parents)))
                break
        else:
            pop()
            order.append(fn)
    return order


def _check_not_released(order):
    for fn in order:
        if fn.released:
            raise RuntimeError(
                "Trying to backward through the graph a second time: its saved arrays were freed by the first "
                "backward. Pass retain_graph=True to the first backward() if you need two; to carry a hidden "
                "state into the next batch, cut it from the old graph with h = h.detach()."
            )


def backward(root, grad, retain_graph=False):
    """Reverse-mode sweep from `root` (a Tensor) seeded with `grad` (a backend array of root's shape). Each Function's
    backward runs once, after every gradient reaching its result has been summed. Hooks (record_grad_norms(),
    detect_anomaly()) see each node's gradients."""
    if root.grad_fn is None:
        _accumulate_leaf(root, grad)
        return
    order = topological_order(root.grad_fn)
    _check_not_released(order)
    m, now = _modes.get(), V.epoch
    hooks = tuple(h for on, h in ((m.record_norms, _record_norms), (m.anomaly, _check_finite)) if on)
    pending, leaves = Pending({root.grad_fn: grad}), {}
    # B.quiet(): an inf or NaN gradient is a value, as in PyTorch, not a NumPy warning; detect_anomaly() finds it.
    with _ModeBlock(grad=False), B.quiet():
        for fn in reversed(order):
            g = pending.take(fn, fn.lazy_grad and not hooks and fn.retained is None)
            if g is None:
                continue
            if fn.retained is not None:
                _retain(fn, g)
            # an in-place change since fn was made: check what it saved, find its old parents
            parents = V.parents_now(fn) if fn.epoch < now else fn.parents
            in_grads = _node_backward(fn, g, parents)
            for hook in hooks:
                hook(fn, g, in_grads)
            fresh = fn.fresh_grad
            for i, d in enumerate(in_grads):
                if d is not None:
                    pending.route(parents[i], d, i == fresh, leaves)
            if not retain_graph:
                fn.release()
    # Leaves are written once, at the end, so their lazy per-step gradients become one product.
    for p, a in leaves.values():
        _accumulate_leaf(p, a.value(), a.owned)


def _node_backward(fn, g, parents):
    """fn.backward(g) as a tuple with one entry per parent, None where no gradient is needed."""
    in_grads = fn.backward(g)
    if type(in_grads) is not tuple:
        in_grads = (in_grads,)
    if len(in_grads) != len(parents):
        raise RuntimeError(f"{fn.name}.backward returned {len(in_grads)} gradients for {len(parents)} inputs")
    need = fn.needs_input_grad
    return in_grads if all(need) else tuple(d if n else None for d, n in zip(in_grads, need, strict=True))


def _retain(fn, g):
    t = fn.retained()
    if t is not None:
        t.grad = cls_tensor()._wrap(g if t.grad is None else t.grad.array + g, False)


def _record_norms(fn, g, in_grads):
    """Hook inside record_grad_norms(): the norm of the gradient reaching fn's result and of each one it sends."""
    fn.out_grad_norm = grad_norm(g)
    fn.grad_norms = tuple(None if d is None else grad_norm(dense_grad(d, p))
                          for d, p in zip(in_grads, fn.parents, strict=True))


def _check_finite(fn, g, in_grads):
    """Hook inside detect_anomaly(): a NaN or Inf gradient raises, naming the op and where it was created."""
    for d, p in zip(in_grads, fn.parents, strict=True):
        if d is not None and not B.all_finite(dense_grad(d, p)):
            raise RuntimeError(f"detect_anomaly: {fn.name} produced NaN or Inf in backward; "
                               f"op created at {fn.__dict__.get('created_at', '<unknown>')}")


def grad_norm(a):
    """The 2-norm of a gradient array, as a Python float (what record_grad_norms() stores)."""
    return float(B.to_host(B.xp.sqrt(B.xp.sum(a * a))))


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
