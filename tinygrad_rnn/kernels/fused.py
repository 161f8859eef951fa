"""Where the layers' recurrent steps are dispatched: the step helpers nn calls, the one table of step Functions and
their twins, the Run node (a layer direction's steps as one node), and the input projection and output stacker
Functions. Imports: backend, grads, autograd, ops, kernels.cells, kernels.twins (never tensor: twins call ops.X.apply
on the Tensors they are given).

Step interface (what nn/rnn.py calls; Tensors batch-major, gate blocks contiguous column ranges, PyTorch's row order):
  gx = linear(x, w_ih, b_ih, b_hh, hh_rows, kind)  # x (T, N, I) -> (T, N, G*H): every step's input part in ONE
                                                   # product; b_hh[:hh_rows] is folded in (all of it for RNN/LSTM,
                                                   # the r and z rows for GRU, whose b_hn sits inside r * (...));
                                                   # stored in the layout of `kind`'s cell (cells.py's docstring)
  h = rnn_step(gx, h, w_hh, t=t)                   # state (N, H)
  s = lstm_step(gx, s, w_hh, w_hr, t=t)            # state s = [h | c], (N, P + H): one output per node
  h = gru_step(gx, h, w_hh, b_hn, t=t)             # reset_after=False: gru_step(gx, h, (w_rz, w_n), t=t)
  ws = step_workspace(h0, T, width, reverse, kind, gx)  # one direction's arrays (workspace.Workspace; None: twins)
  part, last = run_direction(kind, gx, s0, weights, times, masks, tag, ws)  # every step of one layer direction:
                                                   # one Run node with a workspace, else run_steps' node per step
  y = stack_states(parts, width=P, directions=D)   # the directions' parts -> (T, N, D*P)
`t` picks gx[t] (t=None: gx is already (N, G*H)); its gradient is an IndexGrad into the workspace's gradient block,
and dW_hh an OuterGrad, so the engine does ONE (G*H, T*N) @ (T*N, H) product for all steps (a Run node returns
these already joined). `mask` (N, 1) bool marks rows whose sequence is still
running: other rows keep their state and pass its gradient through untouched.

tr.use_primitives() (per thread; or TINYGRAD_RNN_FUSED=0 at import) makes these helpers build the twins instead,
with a `kind` tag per gate, so the visualizer can draw the gates."""

from .. import backend as B
from .. import ops
from ..autograd import Function, IndexGrad, current_tag, grad_norm, modes, use_primitives
from ..autograd import tag as _tag_ctx
from ..grads import Accumulator, dense_grad, rows_first
from .cells import GRUCell, GRUCellResetBefore, LSTMCell, RNNCell
from .twins import gru_before_twin, gru_twin, linear_twin, lstm_twin, rnn_twin, stack_twin
from .workspace import Workspace

xp = B.xp
__all__ = ["use_primitives", "RNNCell", "LSTMCell", "GRUCell", "GRUCellResetBefore"]  # the mode lives in autograd

# The one place a step's implementation is chosen: (fused Function, its twin of primitives) per kind of step. The
# fused Functions run on every backend (cells.py writes each cell once over B's out= vocabulary).
STEPS = {
    "rnn": (RNNCell, rnn_twin),
    "lstm": (LSTMCell, lstm_twin),
    "gru": (GRUCell, gru_twin),
    "gru_before": (GRUCellResetBefore, gru_before_twin),
}


def enabled():
    """True when the helpers below build fused nodes, False inside use_primitives()."""
    return not modes().primitives


# ----------------------------------------------------------------------------------------- input projection
class Linear(Function):
    """y = x @ w.T + b_ih + b_hh[:hh_rows] (b_hh's other rows are added inside the step), any leading dims. The result
    is stored feature-major per leading index, (..., G, N) seen as (..., N, G), so a step's gate block gx[t].T is
    contiguous (cells.py's layout), or batch-major (feature_major=False, for the RNN cell).
    backward: dx = g @ w, dw = g2.T @ x2, db_ih = column sums of g2 (B.col_sums), db_hh = the first hh_rows of those
    sums; through the table's rows when x is an embedding's output (grads.rows_first: dx a RowsGrad). batch_first:
    x (N, T, I) is read as its time-major view and dx given back as x's shape."""

    def forward(self, x, w, *biases, has_ih=True, hh_rows=None, feature_major=True, batch_first=False):
        b_ih, b_hh = (biases + (None, None))[:2] if has_ih else (None, biases[0] if biases else None)
        self.bf = batch_first  # x is (N, T, I): the steps' (T, N, ...) layout is made from its time-major view
        if batch_first:
            x = xp.permute_dims(x, (1, 0, 2))
        self.lead, self.hh_rows, self.has_ih = x.shape[:-1], hh_rows, b_ih is not None
        self.x2, self.w = B.reshape(x, (-1, x.shape[-1])), w
        if b_hh is not None and hh_rows is not None and hh_rows != b_hh.shape[0]:
            b_hh = xp.concat((b_hh[:hh_rows], xp.zeros_like(b_hh[hh_rows:])))
        bias = b_hh if b_ih is None else (b_ih if b_hh is None else b_ih + b_hh)  # one pass over y, not two
        if x.ndim < 2 or not feature_major:  # batch-major: one (rows, I) @ (I, G) product
            y = B.matmul_pooled(self.x2, w.T)
            if bias is not None:
                y += bias
            return B.reshape(y, self.lead + (w.shape[0],))
        xt = _mT(x)  # (..., I, N)
        # (..., G, N), seen as (..., N, G); an array nobody holds any more, as the workspace's (a fresh one this large
        # is page-faulted in again on every forward)
        y = B.reusable_empty(xt.shape[:-2] + (w.shape[0], xt.shape[-1]), x.dtype)
        B.matmul(w, xt, out=y)
        if bias is not None:  # added as a (G, N) array: broadcasting a (G, 1) column takes about twice as long
            full = B.reusable_empty(y.shape[-2:], y.dtype)
            full[...] = B.reshape(bias, (-1, 1))
            y += full
        return _mT(y)

    def backward(self, g):
        need = self.needs_input_grad
        g2 = B.reshape(g, (-1, g.shape[-1]))
        by_rows = rows_first(g2, self.w, self.x2, self.parents[0], self.bf) if need[0] and need[1] else None
        if by_rows is not None:  # x is an embedding's output: through the table's rows (grads.rows_first)
            dx, dw, g2 = by_rows
        else:
            dx = B.reshape(B.matmul_pooled(g2, self.w), self.lead + (self.w.shape[1],)) if need[0] else None
            if dx is not None and self.bf:
                dx = xp.permute_dims(dx, (1, 0, 2))
            dw = xp.matmul(g2.T, self.x2) if need[1] else None
        out = [dx, dw]
        if len(need) > 2:
            db = B.col_sums(g2)
            if self.has_ih:
                out.append(db if need[2] else None)
            if len(out) < len(need):
                rows = self.hh_rows
                out.append(db if rows is None or rows == db.shape[0] else IndexGrad((slice(0, rows),), db[:rows]))
        return tuple(out)


def _mT(a):
    """a with its last two axes swapped (a view)."""
    n = a.ndim
    return xp.permute_dims(a, tuple(range(n - 2)) + (n - 1, n - 2))


# ----------------------------------------------------------------------------------------- output stacker
class StackStates(Function):
    """y[t, :, d*P:(d+1)*P] = states[d*T + t][:, :P], zero where `valid` (T, N, 1) is False (padding).
    backward: each state gets its slice of g (the c half of an LSTM state gets nothing: an IndexGrad)."""

    def forward(self, *states, width=None, directions=1, valid=None, workspaces=None):
        self.width, self.D, self.valid = width, directions, valid
        self.full = states[0].shape[1] == width
        T = len(states) // directions
        if workspaces is not None:  # the steps wrote their states into one array per direction: a view, no stacking
            parts = [ws.outputs(width) for ws in workspaces]
        else:
            parts = [xp.stack([s if self.full else s[:, :width] for s in states[d * T:(d + 1) * T]])
                     for d in range(directions)]
        y = parts[0] if directions == 1 else xp.concat(parts, axis=2)
        return y if valid is None else xp.where(valid, y, xp.zeros_like(y))

    def backward(self, g):
        if self.valid is not None:
            g = xp.where(self.valid, g, xp.zeros_like(g))
        P, T, out = self.width, g.shape[0], []
        cols = slice(0, P)
        for d in range(self.D):
            gd = g if self.D == 1 else g[:, :, d * P:(d + 1) * P]
            for t in range(T):
                out.append(gd[t, ...] if self.full else IndexGrad((slice(None), cols), gd[t, ...]))
        return tuple(out)


# ----------------------------------------------------------------------------------------- a direction as one node
# nn's layers build ONE Run node per layer direction when a workspace serves its steps (fused steps, no masks). False:
# one node per step, as for masked runs (bench_charlm --ablate turns it off).
ONE_NODE_PER_RUN = True


class Run(Function):
    """Every step of one layer direction as one graph node. forward runs the cell's forward (cells.py) once per step
    on plain cell objects, which keep what their backward needs (no node and no Tensor per step); backward runs their
    step_backward from the step run last back to the first, each step's state gradient being the one the next step
    sent plus the step's share of the result's gradient, and returns the gradients of gx (the workspace's gradient
    block), of the initial state and of each weight (one product over all steps: the cell's run_weight_grads).
    parents: (gx, s0, *weights) as a step's; result: the states (T, N, W) in time order, a view of the workspace.
    Graph API: fn.steps, one record per step in the order run (name, tag with "step", out_shape, dtype, released, and
    grad_norms / out_grad_norm after a backward inside record_grad_norms(), as a step node has): step k reads
    parents[0], the state step k-1 wrote (parents[1] for k = 0) and parents[2:]; the visualizer draws them."""

    lazy_grad = True  # the result's gradient as its parts: the layer output's h rows, the final state's

    def forward(self, gx, s0, *weights, kind=None, times=None, ws=None, kw=None, tag=None):
        cls, needs, new, kw = STEPS[kind][0], self.needs_input_grad, object.__new__, kw or {}
        cells, s, ws.run = [], s0, True
        for t in times:
            c = new(cls)
            c.needs_input_grad = needs
            s = c.forward(gx, s, *weights, t=t, mask=None, ws=ws, **kw)
            cells.append(c)
        self.cells, self.ws = cells, ws
        self.step_info = StepInfo(cls.__name__, times, tag, s.shape, s.dtype)
        r, st = ws.rev, ws.states
        out = st[1 - r:ws.T + 1 - r, ...]
        return xp.permute_dims(out, (0, 2, 1)) if ws.fm else out

    @property
    def name(self):
        return self.step_info.name + "Run"

    @property
    def steps(self):
        return self.step_info.records(self)

    def backward(self, g):
        cells, need, ws = self.cells, self.needs_input_grad, self.ws
        norms = [] if modes().record_norms else None
        parts, ds = _step_parts(g, ws.T), None
        for k in range(len(cells) - 1, -1, -1):
            c = cells[k]
            if ds is None:  # the step run last: its gradient is what reached its state alone
                gt = c.cols(_step_grad(parts[c.t], ws.N, g))
            else:  # ds, the later step's fresh state gradient, plus what reached this step's state: summed in place
                for idx, v in parts[c.t]:
                    B.add_at_index(c.cols(ds), idx, v)
                gt = ds
            ds = c.step_backward(gt, k > 0 or need[1])
            if norms is not None:
                norms.append(self._step_norms(c, gt, ds, k > 0 or need[1]))
        if norms is not None:
            self.step_info.norms = norms[::-1]
        out = [ws.blocks["grads"] if need[0] else None, cells[0].cols(ds) if need[1] else None]
        return tuple(out + type(cells[0]).run_weight_grads(cells, self.parents[2:], need))

    def _step_norms(self, c, g, ds, has_ds):
        """(norm of the gradient reaching step c's state, the norms it sends to each parent): what a step node records
        inside record_grad_norms()."""
        need = self.needs_input_grad
        sent = [grad_norm(c.cols(c.da)) if need[0] else None, grad_norm(ds) if has_ds else None]
        for j, d in enumerate(c.weight_grads(need)):
            sent.append(None if d is None else grad_norm(dense_grad(d, self.parents[2 + j])))
        return grad_norm(g), tuple(sent)


_WHOLE = (slice(None),)


def _step_parts(g, T):
    """The gradient of a Run's result (T, N, W) as the engine gives it (an array, or an Accumulator of dense arrays
    and IndexGrads: lazy_grad) as a list per step t of (index into step t's (N, W) state, values) to add there."""
    parts = [[] for _ in range(T)]
    if isinstance(g, Accumulator):
        if g.lefts or any(not _steps_index(d.idx) for d in g.indexed + g.based):
            g = g.value()  # (a form no layer sends: summed the plain way)
        else:
            for d in g.indexed + g.based:
                first, rest = d.idx[0], tuple(d.idx[1:]) or _WHOLE
                if isinstance(first, int):
                    parts[first % T].append((rest, d.values))
                else:
                    for j, t in enumerate(range(*first.indices(T))):
                        parts[t].append((rest, d.values[j, ...]))
            g = g.dense
    if g is not None:
        for t in range(T):
            parts[t].append((_WHOLE, g[t, ...]))
    return parts


def _steps_index(idx):
    """True for a basic index whose first entry picks steps (an int or a slice) and whose others are ints or slices."""
    return isinstance(idx, tuple) and idx and all(isinstance(i, (int, slice)) for i in idx)


def _step_grad(parts, N, g):
    """One step's state gradient (N, W) from its parts: the one dense slice itself (read only), else their sum."""
    if len(parts) == 1 and parts[0][0] is _WHOLE:
        return parts[0][1]
    out = B.zeros((N, g.shape[-1]), g.dtype)
    for idx, v in parts:
        B.add_at_index(out, idx, v)
    return out


class StepInfo:
    """What a Run node keeps of its steps for the Graph API after backward freed them (see Run.steps): the cell's
    name, the step order, the tag, the state's shape and dtype, and the norms a recorded backward found per step."""

    __slots__ = ("name", "times", "tag", "shape", "dtype", "norms")

    def __init__(self, name, times, tag, shape, dtype):
        self.name, self.times, self.tag, self.shape, self.dtype = name, times, tag or {}, tuple(shape), dtype
        self.norms = None

    def records(self, fn):
        return [Step(self, k, fn) for k in range(len(self.times))]


class Step:
    """Step k of a Run node as the Graph API shows a node: name, tag, out_shape, dtype, released, and after a
    backward inside record_grad_norms() grad_norms (gx, the state read, the weights) and out_grad_norm."""

    __slots__ = ("info", "k", "run", "tag")

    def __init__(self, info, k, run):
        self.info, self.k, self.run = info, k, run
        self.tag = {**info.tag, "step": info.times[k]}

    name = property(lambda self: self.info.name)
    out_shape = property(lambda self: self.info.shape)
    dtype = property(lambda self: self.info.dtype)
    released = property(lambda self: self.run.released)
    out_grad_norm = property(lambda self: None if self.info.norms is None else self.info.norms[self.k][0])
    grad_norms = property(lambda self: None if self.info.norms is None else self.info.norms[self.k][1])

    def __repr__(self):
        return f"<{self.name} {self.out_shape} {self.tag}>"


class StackRuns(Function):
    """The layer output (T, N, D*P) from its directions' Run nodes: the h rows of their states, views of the
    workspaces (ws.outputs), concatenated for two directions. backward: each Run gets its slice of g (the c rows of
    an LSTM state get nothing: an IndexGrad); inside record_grad_norms() it also keeps, per direction, the norm of
    each step's slice (step_grad_norms: the edges from the steps to the output in the visualizer's drawing)."""

    saves_inputs = saves_output = False
    reads_steps = True  # Graph API: draw an edge from every step of each Run parent

    def forward(self, *runs, width=None, workspaces=None):
        self.width, self.full = width, runs[0].shape[2] == width
        parts = [ws.outputs(width) for ws in workspaces]
        return parts[0] if len(parts) == 1 else xp.concat(parts, axis=2)

    def backward(self, g):
        P, D, out = self.width, len(self.parents), []
        cols = (slice(None), slice(None), slice(0, P))
        for d in range(D):
            gd = g if D == 1 else g[:, :, d * P:(d + 1) * P]
            out.append(gd if self.full else IndexGrad(cols, gd))
        if modes().record_norms:
            self.step_grad_norms = tuple(tuple(grad_norm(gd[t, ...]) for t in range(gd.shape[0]))
                                         for gd in (g[:, :, d * P:(d + 1) * P] for d in range(D)))
        return tuple(out)


# ----------------------------------------------------------------------------------------- dispatch
def _tagged(out, tag):
    fn = out.grad_fn
    if tag is not None and fn is not None:
        fn.tag = {**current_tag(), **tag}
    return out


def _step(kind, gx, s, weights, t, mask, tag, ws, kw):
    """One step of `kind` with its weights (no None among them for the fused Function; the twin takes them
    positionally, None included). Callers run it under B.quiet(): a gate's exp may overflow to inf, its exact
    limit, a value and not a warning."""
    fused, twin = STEPS[kind]
    if modes().primitives:
        with _tag_ctx(**(tag or {})):
            return twin(gx, s, *weights, t, mask, **kw)
    return _tagged(fused.apply(gx, s, *[w for w in weights if w is not None], t=t, mask=mask, ws=ws, **kw), tag)


def _one_step(kind, gx, s, weights, t, mask, tag, ws, kw):
    with B.quiet():
        return _step(kind, gx, s, weights, t, mask, tag, ws, kw)


def linear(x, w, b_ih=None, b_hh=None, hh_rows=None, kind="lstm", batch_first=False):
    """x @ w.T + b_ih + b_hh[:hh_rows] over any leading dims (the input part of every step at once), laid out for the
    steps of `kind` (any layout gives the same values; the right one saves the steps strided reads). batch_first:
    x is (N, T, I) and the result (T, N, G), as for x.transpose(0, 1), with x itself the node's parent (so an
    embedding's output stays the input whose rows the gradients go through: grads.rows_first)."""
    if modes().primitives:
        return linear_twin(x.transpose(0, 1) if batch_first else x, w, b_ih, b_hh, hh_rows)
    # Function.apply takes parents positionally; has_ih says whether the first bias is b_ih or b_hh.
    biases = tuple(b for b in (b_ih, b_hh) if b is not None)
    return Linear.apply(x, w, *biases, has_ih=b_ih is not None, hh_rows=hh_rows,
                        feature_major=STEPS[kind][0].feature_major, batch_first=batch_first)


def step_workspace(h0, T, width, reverse=False, kind="lstm", gx=None):
    """The arrays of one layer direction's T fused steps of `kind` (workspace.Workspace, in that cell's layout), or None
    for the twins. h0: the initial state array (N, W). Only for a run without masks. gx: the direction's input
    projection (linear()'s Tensor) when nothing but these steps reads it: the steps then write their gate activations
    over it."""
    if modes().primitives:
        return None
    return Workspace(h0, T, width, reverse, STEPS[kind][0].feature_major, None if gx is None else gx.array)


def rnn_step(gx, h, w_hh, t=None, mask=None, nonlinearity="tanh", tag=None, ws=None):
    """One tanh/relu RNN step: act(gx[t] + h @ w_hh.T); (N, H) -> (N, H)."""
    return _one_step("rnn", gx, h, (w_hh,), t, mask, tag, ws, {"nonlinearity": nonlinearity})


def lstm_step(gx, s, w_hh, w_hr=None, t=None, mask=None, tag=None, ws=None):
    """One LSTM step on s = [h | c] (N, P + H) -> the next [h | c]."""
    return _one_step("lstm", gx, s, (w_hh, w_hr), t, mask, tag, ws, {})


def gru_step(gx, h, w_hh, b_hn=None, t=None, mask=None, tag=None, ws=None):
    """One GRU step (N, H) -> (N, H). w_hh: the (3H, H) weight (reset after W_hn, with b_hn (1, H) or None),
    or a pair (w_rz (2H, H), w_n (H, H)) for the paper's form (reset before W_hn)."""
    kind, weights = _gru_kind(w_hh, b_hn)
    return _one_step(kind, gx, h, weights, t, mask, tag, ws, {})


def _gru_kind(w_hh, b_hn):
    return ("gru_before", w_hh) if isinstance(w_hh, tuple) else ("gru", (w_hh, b_hn))


def run_steps(kind, gx, s, weights, times, masks=None, tag=None, ws=None, **kw):
    """Every step of one layer direction: `kind` "rnn" (weights (w_hh,)), "lstm" ((w_hh, w_hr or None)) or "gru"
    ((w_hh or (w_rz, w_n), b_hn or None)), `times` the step order (reversed for the reverse direction), masks[t]
    or None, tag: the items every step node is tagged with (plus "step"). Returns (outputs as a list indexed by t,
    the final state). The same nodes as calling the *_step helper per step."""
    if kind == "gru":
        kind, weights = _gru_kind(*weights)
    outs, base = [None] * len(times), tag or {}
    with B.quiet():
        if modes().primitives:
            for t in times:
                s = outs[t] = _step(kind, gx, s, weights, t, None if masks is None else masks[t],
                                    {**base, "step": t}, ws, kw)
            return outs, s
        # what _step does per step, with the table lookup, the weights and the tag's context made once
        apply, weights, base = STEPS[kind][0].apply, [w for w in weights if w is not None], {**current_tag(), **base}
        for t in times:
            s = outs[t] = apply(gx, s, *weights, t=t, mask=None if masks is None else masks[t], ws=ws, **kw)
            if s.grad_fn is not None:
                s.grad_fn.tag = {**base, "step": t}
    return outs, s


def run_direction(kind, gx, s, weights, times, masks=None, tag=None, ws=None, **kw):
    """Every step of one layer direction (run_steps' arguments): ONE Run node when a workspace serves them (fused
    steps, no masks), else a node per step (run_steps). Returns (the direction's part of the layer output for
    stack_states: the Run's result or the list of per-step states, the final state)."""
    if ws is None or masks is not None or not ONE_NODE_PER_RUN or modes().primitives:
        return run_steps(kind, gx, s, weights, times, masks, tag, ws, **kw)
    if kind == "gru":
        kind, weights = _gru_kind(*weights)
    with B.quiet():
        base = {**current_tag(), **(tag or {})}
        out = Run.apply(gx, s, *[w for w in weights if w is not None], kind=kind, times=times, ws=ws, kw=kw, tag=base)
    last = ops.GetItem.apply(out, idx=(times[-1],))  # the final state: drawn as part of the last step (its tag)
    if out.grad_fn is not None:
        out.grad_fn.tag, last.grad_fn.tag = base, {**base, "step": times[-1]}
    return out, last


def stack_states(states, width, directions=1, valid=None, tag=None, workspaces=None):
    """The directions' parts from run_direction (Run results, or lists of per-step states in original time) -> the
    layer output (T, N, D*width). `workspaces`: the directions' step_workspace() when every step wrote its state
    there (the output is then a view of them)."""
    if not isinstance(states[0], list):  # Run nodes (each has a workspace)
        return _tagged(StackRuns.apply(*states, width=width, workspaces=workspaces), tag)
    states = [s for part in states for s in part]
    if modes().primitives:
        with _tag_ctx(**(tag or {})):
            return stack_twin(states, width, directions, valid)
    return _tagged(StackStates.apply(*states, width=width, directions=directions, valid=valid,
                                     workspaces=workspaces), tag)
