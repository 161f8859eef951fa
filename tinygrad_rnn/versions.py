"""Version counters of tensor storage and the global in-place epoch: what lets the backward engine see that an
array a Function saved was changed in place (PyTorch's "modified by an inplace operation" error) and find the old
version of an input changed since a node was made. The changes themselves are made in inplace.py.
Imports: nothing of the package (autograd reads it; Functions and Tensors are duck-typed here)."""

epoch = 0  # bumped by every in-place change of any tensor; each recorded Function keeps the value it was made at
stale_views = False  # set once a recorded change hits a storage with views: apply() then refreshes views it is given


class VersionCounter:
    """Shared by the tensors over one storage (.data, detach(), views): `version` counts in-place changes, `epoch` is
    the global epoch of the latest, `recent` the epochs of the last few (to name the version a Function saved);
    `recorded` the epoch of the latest change recorded in the graph, `has_views` whether a view op used it."""

    __slots__ = ("version", "epoch", "recent", "recorded", "has_views")

    def __init__(self):
        self.version, self.epoch, self.recent, self.recorded, self.has_views = 0, 0, [], 0, False


def mark_recorded(t):
    """t's storage was just changed by a recorded in-place op: views of it made earlier now have a stale grad_fn."""
    global stale_views
    vc = t._vc
    vc.recorded = epoch
    if vc.has_views:
        stale_views = True


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
    global epoch
    vc = version_counter(t)
    epoch += 1
    vc.version += 1
    vc.epoch = epoch
    vc.recent = vc.recent[-15:] + [epoch]


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


def inputs_of(fn):
    """fn's input tensors as fn used them: fn.parents, except that an input changed in place since is replaced by
    the tensor standing for its old value (what graph walkers should follow)."""
    return tuple(_as_of(p, fn.epoch) for p in fn.parents) if fn.epoch < epoch else fn.parents


def parents_now(fn):
    """fn's parents as they were when fn was made, after checking that what its backward saved is unchanged
    (called only when an in-place change happened after fn was made)."""
    parents = inputs_of(fn)
    for i in fn.saved_inputs():
        vc = getattr(parents[i], "_vc", None)
        if vc is not None and vc.epoch > fn.epoch:
            raise _modified_error(f"tensor of shape {tuple(parents[i].shape)}, input {i} of {fn.name}", vc, fn)
    out = fn.__dict__.get("out_vc")
    if out is not None and out[0].version != out[1]:
        raise _modified_error(f"tensor of shape {tuple(fn.out_shape)}, output 0 of {fn.name}", out[0], fn)
    return parents
