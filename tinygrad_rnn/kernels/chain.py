"""The engine's chain backward for the buffered NumPy step kernels (numpy_steps.py): a layer direction's steps run
backward in one loop, their lazy gradients summed over the steps. fused.py installs chain_backward as the step
Functions' `chain`. Imports: backend, autograd, kernels.numpy_steps."""

from .. import backend as B
from ..autograd import IndexGrad, OuterGrad
from .numpy_steps import _gru_core_buffered, _lstm_chain_core, _rnn_core

np = B.xp  # only imported when the backend is NumPy


def _chain_core(fn):
    """The per-step backward kernel a buffered step can run inside chain_backward, or None."""
    if fn.mask is not None or fn.buf is None:
        return None
    name = type(fn).__name__
    if name == "RNNCell":
        return None if fn.relu else _rnn_core
    if name == "LSTMCell":
        return _lstm_chain_core if fn.w_hr is None else None
    if name == "GRUCell":
        return _gru_core_buffered
    return None


def _add_pair(pair, target, P):
    """(dh, dc) += a gradient of the [h | c] state: typically the stacked output's slice, an IndexGrad on h."""
    dh, dc = pair
    if not isinstance(target, np.ndarray):
        only = target.single_index()
        if only is not None and only[0] == (slice(None), slice(0, P)):
            np.add(dh, only[1], out=dh)
            return
        target = target.value()
    np.add(dh, target[:, :P], out=dh)
    np.add(dc, target[:, P:], out=dc)


def chain_backward(self, g, pending):
    """Backward of this step and then of each earlier step of the same layer direction, in one loop: a step's state
    feeds only the next step and the layer's stacked output (nn's layers never hand it out), so once the engine
    reaches the latest step, every earlier step's gradient is complete as soon as its successor has run.
    `pending` is the engine's map Function -> gradient so far; the steps' entries are taken from it. Returns
    (parents, gradients, index of the one made afresh, steps done), the lazy gradients of gx and the weights
    summed over the steps done (one IndexGrad-free base and one product), or None to use backward() instead."""
    core = _chain_core(self)
    if core is None:
        return None
    cls, buf, fn, done = type(self), self.buf, self, []
    pair = core is _lstm_chain_core  # an LSTM carries (dh, dc) as two arrays between its steps
    if pair:
        P = self.P
        g = (g[:, :P], g[:, P:])
    while True:
        pfn = fn.parents[1].grad_fn
        nxt = pfn if (type(pfn) is cls and pfn.__dict__.get("buf") is buf and pfn.retained is None) else None
        dh = core(fn, g, nxt is not None or fn.needs_input_grad[1])
        done.append(fn)
        if nxt is None:
            break
        target = pending.pop(nxt, None)
        if target is not None:
            if pair:
                _add_pair(dh, target, P)
            elif isinstance(target, np.ndarray):
                dh += target
            else:
                target.add_into(dh)
        g, fn = dh, nxt
    if pair and dh is not None:
        dh = np.concatenate(dh, axis=1)
    need = self.needs_input_grad
    ts = (self.t, fn.t)
    lo, hi = min(ts), max(ts)
    grads = buf.grads
    parents, out, fresh = [], [], -1
    if need[0]:
        if hi - lo + 1 == grads.shape[0]:
            parents.append(self.parents[0])
            out.append(grads)  # every step ran: the buffer is gx's whole gradient
        else:
            for f in done:
                parents.append(self.parents[0])
                out.append(IndexGrad((f.t, Ellipsis), grads[f.t], grads))
    if dh is not None and fn.needs_input_grad[1]:
        fresh = len(out)
        parents.append(fn.parents[1])
        out.append(dh)
    if need[2]:
        left = (buf.grads2 if cls.__name__ == "GRUCell" else grads)[lo:hi + 1]
        right = buf.h_states[lo + buf.rev:hi + 1 + buf.rev]
        parents.append(self.parents[2])
        out.append(OuterGrad(left.reshape(-1, left.shape[-1]), right.reshape(-1, right.shape[-1])))
    if len(need) > 3 and need[3]:  # GRU b_hn: column sums of drn over the steps, as ones^T drn
        H = grads.shape[-1] // 3
        drn = buf.drn_view(H)[lo:hi + 1]
        ones = buf.ones_col(grads.dtype)[lo:hi + 1]
        parents.append(self.parents[3])
        out.append(OuterGrad(ones.reshape(-1, 1), drn.reshape(-1, H)))
    return parents, out, fresh, done
