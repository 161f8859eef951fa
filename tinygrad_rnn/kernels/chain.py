"""A layer direction's step nodes take their own gradients (the engine's Function.chain hook): their backward runs in
one loop, the state gradient carried from step to step instead of routed through the engine. Imports: backend.
Uses only the hook's documented interface and the cells' own methods (cells.Cell: can_chain, split_state,
step_backward, other_grads)."""

from .. import backend as B


def chain_backward(self, g, pending):
    """Function.chain for a recurrent step: run this step's backward and then each earlier step of the same layer
    direction (same Workspace), in one loop. A step's state feeds only the next step and the layer's stacked output
    (nn's layers never hand it out), so once the engine reaches the latest step, every earlier step's gradient is
    complete as soon as its successor has run: `pending.take_into(prev, ds)` adds what the stacked output sent it.
    Returns (parents, gradients, index of the state gradient made afresh, steps done): each step's gradients of gx
    and the weights as its backward() gives them (the engine joins their spans into one product), or None where
    this step cannot chain (then the engine calls backward())."""
    if not self.can_chain():
        return None
    cls, ws, fn, done = type(self), self.ws, self, []
    gs = self.split_state(g)
    while True:
        prev = fn.parents[1].grad_fn
        if type(prev) is not cls or prev.ws is not ws or prev.retained is not None:
            prev = None  # the run starts at fn: its state gradient goes back to the engine
        ds = fn.step_backward(gs, prev is not None or fn.needs_input_grad[1])
        done.append(fn)
        if prev is None:
            break
        pending.take_into(prev, ds)
        gs, fn = ds, prev
    parents, grads = [], []
    for f in done:
        parents.extend((f.parents[0],) + f.parents[2:])
        grads.extend(f.other_grads(f.needs_input_grad))
    fresh = -1
    if ds is not None and fn.needs_input_grad[1]:
        fresh = len(grads)
        parents.append(fn.parents[1])
        grads.append(ds[0] if len(ds) == 1 else B.xp.concat(ds, axis=1))
    return parents, grads, fresh, done
