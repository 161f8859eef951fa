"""Every public op that takes a dim, in one table: each valid dim (negative ones too) agrees with PyTorch, and the
first dim out of range on either side raises IndexError naming the op, the dim and the range. A walk over the
public API (Tensor methods, tr.*, F.*, nn layers) fails when a callable with a dim parameter has no row here."""

import inspect

import numpy as np
import pytest

import tinygrad_rnn as tr
import tinygrad_rnn.nn.functional as F
from tinygrad_rnn import nn

torch = pytest.importorskip("torch")

SHAPE = (2, 3, 4)
DIM_PARAMS = {"dim", "axis", "dim0", "dim1", "dims", "start_dim", "end_dim"}


def _idx(m, x, d):
    """An index of x's shape pointing at position 1 along every dim (each dim of SHAPE has size >= 2)."""
    return m.ones(tuple(x.shape), dtype=m.int64)


# name -> (args(m, x, d) for the call, error name, extra): the Tensor method x.name(*args) and, where tr has it, the
# free function tr.name(x, *args). extra=1 for ops that name a new dim (unsqueeze, stack).
CALLS = {
    "sum": (lambda m, x, d: (d,), "sum", 0),
    "mean": (lambda m, x, d: (d, True), "mean", 0),
    "var": (lambda m, x, d: (d,), "var", 0),
    "std": (lambda m, x, d: (d,), "var", 0),
    "amax": (lambda m, x, d: (d,), "amax", 0),
    "amin": (lambda m, x, d: (d,), "amin", 0),
    "max": (lambda m, x, d: (d,), "max", 0),
    "min": (lambda m, x, d: (d, True), "min", 0),
    "argmax": (lambda m, x, d: (d,), "argmax", 0),
    "argmin": (lambda m, x, d: (d,), "argmin", 0),
    "logsumexp": (lambda m, x, d: (d,), "logsumexp", 0),
    "cumsum": (lambda m, x, d: (d,), "cumsum", 0),
    "softmax": (lambda m, x, d: (d,), "softmax", 0),
    "log_softmax": (lambda m, x, d: (d,), "log_softmax", 0),
    "sort": (lambda m, x, d: (d, True), "argsort", 0),
    "argsort": (lambda m, x, d: (d,), "argsort", 0),
    "topk": (lambda m, x, d: (2, d), "topk", 0),
    "flatten": (lambda m, x, d: (d,), "flatten", 0),
    "squeeze": (lambda m, x, d: (d,), "squeeze", 0),
    "unsqueeze": (lambda m, x, d: (d,), "unsqueeze", 1),
    "transpose": (lambda m, x, d: (d, 0), "transpose", 0),
    "squeeze_": (lambda m, x, d: (d,), "squeeze", 0),
    "unsqueeze_": (lambda m, x, d: (d,), "unsqueeze", 1),
    "transpose_": (lambda m, x, d: (d, 0), "transpose", 0),
    "swapaxes": (lambda m, x, d: (1, d), "transpose", 0),
    "permute": (lambda m, x, d: ((d,) + tuple(i for i in range(3) if i != d % 3),), "permute", 0),
    "narrow": (lambda m, x, d: (d, 1, 1), "narrow", 0),
    "select": (lambda m, x, d: (d, -1), "select", 0),
    "unbind": (lambda m, x, d: (d,), "unbind", 0),
    "gather": (lambda m, x, d: (d, _idx(m, x, d)), "gather", 0),
    "scatter_add": (lambda m, x, d: (d, _idx(m, x, d), x), "scatter_add", 0),
    "split": (lambda m, x, d: (1, d), "split", 0),
    "chunk": (lambda m, x, d: (2, d), "chunk", 0),
}
ROWS = {}
for _name, (_args, _err, _extra) in CALLS.items():
    ROWS[f"Tensor.{_name}"] = (lambda m, x, d, n=_name, a=_args: getattr(x, n)(*a(m, x, d)), _err, _extra)
    if hasattr(tr, _name):
        ROWS[f"tr.{_name}"] = (lambda m, x, d, n=_name, a=_args: getattr(m, n)(x, *a(m, x, d)), _err, _extra)
ROWS.update({
    "Tensor.size": (lambda m, x, d: x.size(d), "size", 0),
    "Tensor.flatten[end_dim]": (lambda m, x, d: x.flatten(0, d), "flatten", 0),
    "Tensor.transpose[dim1]": (lambda m, x, d: x.transpose(0, d), "transpose", 0),
    "tr.cat": (lambda m, x, d: m.cat([x, x * 2], d), "cat", 0),
    "tr.concat": (lambda m, x, d: m.concat([x, x * 2], dim=d), "cat", 0),
    "tr.concatenate": (lambda m, x, d: m.concatenate([x, x * 2], d), "cat", 0),
    "tr.stack": (lambda m, x, d: m.stack([x, x * 2], d), "stack", 1),
    "F.softmax": (lambda m, x, d: m.nn.functional.softmax(x, d), "softmax", 0),
    "F.log_softmax": (lambda m, x, d: m.nn.functional.log_softmax(x, dim=d), "log_softmax", 0),
    "F.cosine_similarity": (lambda m, x, d: m.nn.functional.cosine_similarity(x, x * 2 + 1, d), "cosine_similarity",
                            0),
    "nn.Softmax": (lambda m, x, d: m.nn.Softmax(d)(x), "softmax", 0),
    "nn.LogSoftmax": (lambda m, x, d: m.nn.LogSoftmax(dim=d)(x), "log_softmax", 0),
    "nn.Flatten": (lambda m, x, d: m.nn.Flatten(0, d)(x), "flatten", 0),
    "nn.Flatten[start_dim]": (lambda m, x, d: m.nn.Flatten(d)(x), "flatten", 0),
})
HOST = np.random.default_rng(0).permutation(np.arange(24.0) * 0.37 - 4.0).reshape(SHAPE)  # distinct: no ties


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [v for o in out for v in _flat(o)]
    if isinstance(out, int):
        return [np.asarray(out)]
    return [out.detach().numpy() if isinstance(out, torch.Tensor) else out.numpy()]


@pytest.mark.parametrize("key", sorted(ROWS))
def test_valid_dims_agree_with_torch(key):
    fn, _, extra = ROWS[key]
    n = len(SHAPE) + extra
    for d in range(-n, n):
        ours = _flat(fn(tr, tr.tensor(HOST), d))
        theirs = _flat(fn(torch, torch.tensor(HOST), d))
        assert len(ours) == len(theirs), f"{key} dim {d}"
        for a, b in zip(ours, theirs, strict=True):
            assert a.shape == b.shape, f"{key} dim {d}: shape {a.shape} != torch {b.shape}"
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"{key} dim {d}")


@pytest.mark.parametrize("key", sorted(ROWS))
def test_out_of_range_dims_raise_index_error(key):
    fn, op, extra = ROWS[key]
    n = len(SHAPE) + extra
    for d in (n, -n - 1, 10):
        with pytest.raises(IndexError, match=rf"{op}: dim {d} is out of range .*\[{-n}, {n - 1}\]"):
            fn(tr, tr.tensor(HOST), d)


def _dim_params(fn):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return set()
    return DIM_PARAMS & set(params)


def public_dim_callables():
    """'Tensor.x', 'tr.x', 'F.x', 'nn.X' for every public callable that takes a dim-like parameter."""
    found = set()
    for prefix, owner in (("Tensor", tr.Tensor), ("tr", tr), ("F", F), ("nn", nn)):
        for name in dir(owner):
            if name.startswith("_"):
                continue
            obj = inspect.getattr_static(owner, name) if owner is tr.Tensor else getattr(owner, name)
            if isinstance(obj, property) or not callable(obj):
                continue
            if _dim_params(obj.__init__ if inspect.isclass(obj) else obj):
                found.add(f"{prefix}.{name}")
    return found


def test_every_public_op_with_a_dim_has_a_row():
    covered = {k.split("[")[0] for k in ROWS}
    found = public_dim_callables()
    assert len(found) > 40, sorted(found)  # the walk itself works
    assert not found - covered, f"ops with a dim argument but no row in tests/test_dims.py: {sorted(found - covered)}"


# ----- the aliases: dim=/keepdim= and axis=/keepdims= both work; naming one twice is an error
def test_axis_and_keepdims_are_aliases_and_both_at_once_is_an_error():
    x = tr.tensor(HOST)
    np.testing.assert_array_equal(x.sum(axis=1, keepdims=True).numpy(), x.sum(dim=1, keepdim=True).numpy())
    np.testing.assert_array_equal(tr.cat([x, x], axis=2).numpy(), tr.cat([x, x], dim=2).numpy())
    with pytest.raises(TypeError, match="sum: got both dim= and axis="):
        x.sum(dim=1, axis=1)
    with pytest.raises(TypeError, match="mean: got both keepdim= and keepdims="):
        x.mean(1, keepdim=True, keepdims=True)
    with pytest.raises(TypeError, match="cat: got both dim= and axis="):
        tr.cat([x], dim=0, axis=0)


def test_zero_dim_tensors_take_dim_0_and_minus_1():
    s = tr.tensor(2.5)
    for d in (0, -1):
        assert s.sum(d).item() == 2.5 and s.unsqueeze(d).shape == (1,) and s.softmax(d).item() == 1.0
    with pytest.raises(IndexError, match=r"sum: dim 1 is out of range .*\[-1, 0\]"):
        s.sum(1)
    with pytest.raises(IndexError, match=r"unsqueeze: dim 1 is out of range .*\[-1, 0\]"):
        s.unsqueeze(1)


@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0")  # var/std of one element: NaN, both warn
@pytest.mark.parametrize("key", sorted(ROWS))
def test_zero_dim_tensors_behave_like_torch(key):
    """On a 0-d tensor dims 0 and -1 (and for new-dim ops also 1 and -2) either work as in PyTorch or raise; an
    answer PyTorch would not give is the failure."""
    fn, _, extra = ROWS[key]
    for d in range(-1 - extra, 1 + extra):
        try:
            theirs = _flat(fn(torch, torch.tensor(2.5, dtype=torch.float64), d))
        except (IndexError, RuntimeError, ValueError, TypeError):
            with pytest.raises((IndexError, ValueError, TypeError)):
                fn(tr, tr.tensor(2.5, dtype=tr.float64), d)
            continue
        ours = _flat(fn(tr, tr.tensor(2.5, dtype=tr.float64), d))
        assert len(ours) == len(theirs), f"{key} dim {d}"
        for a, b in zip(ours, theirs, strict=True):
            assert a.shape == b.shape, f"{key} dim {d}: shape {a.shape} != torch {b.shape}"
            np.testing.assert_allclose(a, b, err_msg=f"{key} dim {d}")
