"""Every public callable (tinygrad_rnn.*, Tensor methods and operators, nn.*, nn.functional.*, nn.utils.*, optim.*,
lr_scheduler.*, visualize.*) has a row in the bad-input table of test_bad_inputs.py, or an exemption here that says
why it takes no input worth a row."""

import inspect

import numpy as np
from test_bad_inputs import ROWS

import tinygrad_rnn as tr
import tinygrad_rnn.nn.functional as F
import tinygrad_rnn.nn.utils.rnn as R
import visualize
from tinygrad_rnn import nn, optim
from tinygrad_rnn.optim import lr_scheduler as S

EXEMPT = {
    # no arguments (or only flags whose every value is valid): nothing to get wrong
    "tr.no_grad", "tr.enable_grad", "tr.is_grad_enabled", "tr.detect_anomaly", "tr.record_grad_norms",
    "tr.tag",  # free-form keyword labels: any key and value is valid
    "tr.get_default_dtype", "tr.is_tensor",  # any object is a valid question
    "visualize.renderers",
    "Tensor.numel", "Tensor.numpy", "Tensor.tolist", "Tensor.detach", "Tensor.retain_grad", "Tensor.float",
    "Tensor.double", "Tensor.long", "Tensor.int", "Tensor.bool", "Tensor.contiguous", "Tensor.cpu", "Tensor.dim",
    "nn.Module.cpu", "Tensor.exp", "Tensor.log", "Tensor.tanh", "Tensor.sigmoid", "Tensor.relu",
    "Tensor.abs", "Tensor.sqrt", "Tensor.__neg__",
    "Tensor.__init__",  # the constructor: rows under tr.Tensor
    "Tensor.__repr__", "Tensor.__hash__",  # object protocol, no input
    "nn.Module.named_children", "nn.Module.children", "nn.Module.named_modules", "nn.Module.modules",
    "nn.Module.named_parameters", "nn.Module.parameters", "nn.Module.named_buffers", "nn.Module.eval",
    "nn.Module.zero_grad", "nn.Module.buffers", "nn.Module.float", "nn.Module.double", "nn.Module.state_dict",
    "nn.ModuleDict.keys", "nn.ModuleDict.values", "nn.ModuleDict.items",
    # no constructor arguments; forward is the Tensor method of the same name
    "nn.Module", "nn.Tanh", "nn.Sigmoid", "nn.ReLU", "nn.Identity",
    "nn.utils.rnn.PackedSequence",  # a namedtuple the pack_* functions build; its fields are checked where used
    "optim.Optimizer.zero_grad", "optim.Optimizer.state_dict",
    "lr_scheduler.LRScheduler.get_last_lr",
    "lr_scheduler.SequentialLR.step", "lr_scheduler.ChainedScheduler.step",
    "lr_scheduler.CyclicLR.scale_fn",  # the cycle's scaling of a position, called by step(); not a user entry point
    "lr_scheduler.LRScheduler.state_dict",
    # the autograd Functions behind F.linear / F.embedding (rows there); users never call them
    "F.LinearFn", "F.EmbeddingFn",
}
# Mode switches that take one flag and bool() it (set_grad_enabled(mode), use_primitives(flag)); listed only where the
# running code has them, so the table holds both before and after the per-thread modes land.
EXEMPT |= {k for k in ("tr.set_grad_enabled", "tr.use_primitives") if hasattr(tr, k[3:])}
# A module's forward is exercised by the rows that call the module (keyed by the class); these take no input.
EXEMPT_METHODS = {"forward", "extra_repr", "reset_parameters", "get_lr"}
NOT_CALLED_DUNDERS = {"__weakref__", "__slots__", "__module__", "__doc__", "__dict__", "__array_ufunc__",
                      "__annotations__", "__init_subclass__", "__class_getitem__"}


def _callable(o):
    return callable(o) and not inspect.ismodule(o) and not (isinstance(o, type) and issubclass(o, np.generic))


def _own_methods(prefix, cls, dunders=False):
    out = {}
    for n, o in vars(cls).items():
        if isinstance(o, (classmethod, staticmethod)):
            o = o.__func__
        if not inspect.isfunction(o) or n in EXEMPT_METHODS:
            continue
        if not n.startswith("_") or (dunders and n.startswith("__") and n not in NOT_CALLED_DUNDERS):
            out[f"{prefix}.{n}"] = o
    return out


def public_api():
    """key -> object for every public callable the table must cover."""
    api = {}

    def walk(prefix, names, owner):
        for n in names:
            o = getattr(owner, n)
            if not _callable(o):
                continue
            api[f"{prefix}.{n}"] = o
            if isinstance(o, type) and not issubclass(o, (tr.Tensor, tr.autograd.Function)):
                api.update(_own_methods(f"{prefix}.{n}", o))

    walk("tr", tr.__all__, tr)
    for cls in tr.Tensor.__mro__[:-1]:  # the Tensor class and its method mixins
        api.update(_own_methods("Tensor", cls, dunders=True))
    walk("nn", nn.__all__, nn)
    walk("F", [n for n, o in vars(F).items() if getattr(o, "__module__", None) == F.__name__ and n[0] != "_"], F)
    walk("nn.utils", nn.utils.__all__, nn.utils)
    walk("nn.utils.rnn", [n for n, o in vars(R).items() if getattr(o, "__module__", None) == R.__name__
                          and n[0] != "_"], R)
    walk("optim", optim.__all__, optim)
    walk("lr_scheduler", S.__all__, S)
    walk("visualize", visualize.__all__, visualize)
    if hasattr(nn, "init"):  # the inplace helper's nn.init, once it lands
        walk("nn.init", [n for n, o in vars(nn.init).items() if getattr(o, "__module__", None) == nn.init.__name__
                         and n[0] != "_"], nn.init)
    return api


def test_every_public_callable_has_a_row():
    api = public_api()
    covered = {p.values[0] for p in ROWS} | EXEMPT
    assert not covered - set(api), f"rows or exemptions for names that are not public callables: {covered - set(api)}"
    # an alias (tr.concat = tr.cat, Tensor.clamp = Tensor.clip) is covered by a row for any of its names
    covered_objects = {id(api[k]) for k in covered}
    missing = sorted(k for k, o in api.items() if k not in covered and id(o) not in covered_objects)
    assert not missing, f"public callables with no row in the bad-input table (add one, or an exemption): {missing}"
