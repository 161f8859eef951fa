"""One layer direction's arrays for its fused steps (Workspace) and the helpers the cells take their arrays from:
per-step rows of saved blocks, scratch, contiguous copies of W_hh^T. Imports: backend."""

from .. import backend as B

xp = B.xp


# The products with W_hh^T (the backward's W_hh^T @ da, feature-major; the forward's h @ W_hh^T, batch-major) read it
# from a contiguous copy made once per forward (Workspace.transposed). False: the transposed view (bench_charlm
# --ablate turns it off).
CONTIGUOUS_WT = True


def columns(a):
    """The feature-major (W, N) view of a batch-major (N, W) array, and back: a transpose, never a copy."""
    return a.T


class Workspace:
    """The arrays of one layer direction's T steps in one forward, feature-major (see cells.py's docstring) for the
    cells with gates (below), batch-major for the RNN (feature_major=False: every array below transposed, the states
    (T+1, N, W) hold the history themselves and no copy is made, since one gate block has no strided gates):
      states (T+1, W, N)  every state, contiguous per step (the initial one copied in: index 0, or T for the reverse
                          direction): what the steps read and write; a step's output Tensor is the view states[i].T
      hist (P, T+1, N)    the h part of every state again (one copy per step), laid out so that the layer output
                          (T, N, P) and the right factor of dW_hh over all steps are views that BLAS reads directly
      saved blocks        (T, width, N): per-step values the backward needs, contiguous per step
      gradient blocks     (width, T, N), seen as (T, N, width): a step writes its gate gradients into its slot, so
                          gx's gradient and the left factor of dW_hh are that one array (one product, no concat)
      scratch             (width, N) arrays no node keeps, reused by every step
      gx (T, G, N)        the layer's input projection (when the layer hands it over: only the steps read it): a step
                          writes its gate activations over its own rows of it (input_rows) instead of a saved block
    A new forward makes a new Workspace whose arrays come from B.reusable_empty: ones nobody holds any more (no
    output, view or graph node), so no array a Tensor or graph node still holds is ever overwritten, and steady
    training allocates none."""

    __slots__ = ("states", "hist", "h_states", "rev", "N", "T", "blocks", "fm", "gx", "run")

    def __init__(self, h0, T, width, reverse, feature_major=True, gx=None):
        self.rev, self.N, self.T, self.fm = int(reverse), h0.shape[0], T, feature_major
        self.run = False  # True when one Run node runs every step (fused.Run): its backward joins the weight gradients
        i0 = T * self.rev
        self.blocks = {}
        # gx: the layer's input projection (T, N, G), stored (T, G, N), which only these steps read: each step writes
        # its gate activations over its own pre-activation rows (input_rows), as the hand-written NumPy step does, so
        # a step writes no other saved array for them (one cold stream of memory a step instead of two)
        self.gx = None
        if gx is not None and feature_major and tuple(gx.shape[:2]) == (T, self.N):
            self.gx = xp.permute_dims(gx, (0, 2, 1))
        if not feature_major:
            self.states = B.reusable_empty((T + 1,) + tuple(h0.shape), h0.dtype)
            self.states[i0, ...] = h0
            self.hist = None
            self.h_states = self.states if width == h0.shape[1] else self.states[..., :width]
            return
        self.states = B.reusable_empty((T + 1, h0.shape[1], self.N), h0.dtype)
        self.states[i0, ...] = columns(h0)
        self.hist = B.reusable_empty((width, T + 1, self.N), h0.dtype)
        self.hist[:, i0, :] = self.states[i0, :width, :]
        self.h_states = xp.permute_dims(self.hist, (1, 2, 0))  # (T+1, N, P)

    def io(self, t):
        """(the state step t reads, the slot of the state it writes), each (W, N)."""
        return self.states[t + self.rev, ...], self.states[t + 1 - self.rev, ...]

    def record(self, t, out):
        """Copy the h rows of step t's new state (W, N) into hist (feature-major only)."""
        if self.fm:
            self.hist[:, t + 1 - self.rev, :] = out[:self.hist.shape[0], ...]

    def outputs(self, width):
        """The layer output (T, N, width): a view of hist (of the states, batch-major)."""
        r = self.rev
        return self.h_states[1 - r:self.T + 1 - r, ...]

    def block(self, name, width, dtype):
        """Saved block `name` (T, width, N) (made on first use): step t's (width, N) values are block[t]."""
        b = self.blocks.get(name)
        if b is None:
            b = self.blocks[name] = B.reusable_empty((self.T,) + self._rows(width), dtype)
        return b

    def grad_block(self, name, width, dtype):
        """Gradient block `name` seen as (T, N, width), stored (width, T, N) (made on first use)."""
        b = self.blocks.get(name)
        if b is None:
            if self.fm:
                b = self.blocks[name] = xp.permute_dims(B.reusable_empty((width, self.T, self.N), dtype), (1, 2, 0))
            else:
                b = self.blocks[name] = B.reusable_empty((self.T, self.N, width), dtype)
        return b

    def scratch(self, name, width, dtype):
        """A (width, N) array no graph node keeps, reused by every step."""
        b = self.blocks.get(name)
        if b is None:
            b = self.blocks[name] = B.reusable_empty(self._rows(width), dtype)
        return b

    def _rows(self, width):
        return (width, self.N) if self.fm else (self.N, width)

    def transposed(self, name, w):
        """w.T as a contiguous array, copied on first use in this forward's graph and read by every step (small
        products with the transposed view are 25-60% slower)."""
        if not CONTIGUOUS_WT:
            return w.T
        b = self.blocks.get(name)
        if b is None:
            b = self.blocks[name] = B.reusable_empty((w.shape[1], w.shape[0]), w.dtype)
            b[...] = w.T
        return b

    def span(self, left, t):
        """The place of OuterGrad(left[t], h_t): the engine joins consecutive steps' spans into one product."""
        return (left, self.h_states, t, t + self.rev)

    def states_read(self):
        """The h part of the state each step read, all T steps as one (T*N, P) view (in the gradient blocks' order:
        row block t is what step t read): the right factor of the weight gradients' products over the run."""
        h = self.h_states[self.rev:self.T + self.rev, ...]
        return B.reshape(h, (-1, h.shape[-1]))


def saved_rows(ws, name, t, width, N, dtype):
    """Step t's (width, N) values of saved block `name`, or a fresh array without a workspace."""
    return B.empty((width, N), dtype) if ws is None else ws.block(name, width, dtype)[t, ...]


def input_rows(ws, name, x, t, lo, hi):
    """Where step t keeps values computed from rows lo:hi of its input x = gx_t (W, N), their activations: those rows
    of gx_t themselves when the workspace holds the layer's gx (see Workspace), else step t's row of saved block
    `name`, or a fresh array. Callers write them with an elementwise op reading x's rows first (in place is safe)."""
    if ws is None or ws.gx is None:
        return saved_rows(ws, name, t, hi - lo, x.shape[1], x.dtype)
    return ws.gx[t, lo:hi, :]


def scratch(ws, name, width, N, dtype):
    """A (width, N) array no graph node keeps: the workspace's, reused by every step, or a fresh one."""
    return B.empty((width, N), dtype) if ws is None else ws.scratch(name, width, dtype)


def weight_t(ws, name, w):
    """w.T for a product with W_hh^T: the workspace's contiguous copy (CONTIGUOUS_WT), or the view without one."""
    return w.T if ws is None else ws.transposed(name, w)
