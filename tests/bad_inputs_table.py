"""The machinery of the bad-input table (tests/test_bad_inputs.py runs it): row(), the builders of stateful objects
and the snapshots that prove a failed call changed nothing. The rows live in bad_inputs_tensor.py (tensors, ops,
indexing, in-place) and bad_inputs_nn.py (layers, losses, utilities, optimizers, schedulers, checkpoints, visualize)."""

import copy
import os

import numpy as np
import pytest

import tinygrad_rnn as tr
import visualize
from tinygrad_rnn import nn, optim


# ----- builders and snapshots
def x34():
    return tr.randn(3, 4)


def param():
    return nn.Parameter(tr.randn(3, 2))


def loss():
    return (tr.randn(3, requires_grad=True) * 2.0).sum()


def trained(cls, **kw):
    """A maker of an optimizer that has taken one step (so it has state to keep)."""
    def make(tmp):
        p = param()
        opt = cls([p], **kw)
        p.grad = tr.randn(3, 2)
        opt.step()
        return opt
    return make


def scheduler(cls, *args):
    def make(tmp):
        sched = cls(trained(optim.SGD, lr=0.1, momentum=0.9)(tmp), *args)
        sched.step()
        return sched
    return make


def checkpoint(tmp):
    path = tmp / "ck.npz"
    tr.save({"w": np.arange(3.0), "epoch": 2}, path)
    return path


def module_state(m):
    return {k: v.copy() for k, v in m.state_dict().items()}, [x.training for x in m.modules()]


def optim_state(opt):
    return copy.deepcopy(opt.state_dict()), [p.numpy().copy() for g in opt.param_groups for p in g["params"]]


def sched_state(s):
    return copy.deepcopy(s.state_dict()), [g["lr"] for g in s.optimizer.param_groups], optim_state(s.optimizer)


def file_state(path):
    return path.read_bytes(), sorted(os.listdir(path.parent))


def same(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return a == b or (a != a and b != b)  # NaN hyperparameters compare equal to themselves


def bad_state_dict(m):
    sd = m.state_dict()
    sd["bias"] = np.array(["a", "b", "c"])  # the right shape, not numeric; "weight" comes first and must survive
    return m.load_state_dict(sd)


def pickled(tmp):
    path = tmp / "evil.npz"
    np.savez(path, obj=np.array([{"a": 1}], dtype=object))
    return path


def truncated(tmp):
    path = checkpoint(tmp)
    path.write_bytes(path.read_bytes()[:40])
    return path


def render_to(path):
    return visualize.render(loss(), path)


ROWS = []


def row(name, call, exc, match, make=None, state=None, xfail=None):
    """name: the public callable the row exercises (the coverage key); call(): the bad call, or call(obj) on
    make(tmp_path) when the row checks with state(obj) that a failed call changed nothing. xfail: the reason a row
    written ahead of the code cannot pass yet (strict: it fails once the code lands, so the mark gets removed)."""
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    ROWS.append(pytest.param(name, call, exc, match, make, state, marks=marks, id=f"{name}-{len(ROWS)}"))




T, V, I, IX = TypeError, ValueError, IndexError, "index: index"  # noqa: E741
