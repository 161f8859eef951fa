"""Item assignment, in-place ops, version counters and .data against PyTorch (values and gradients in float64, a
random upstream gradient), the errors PyTorch raises (leaf in-place, modified saved tensors), and no false version
errors in recurrent layers, optimizers and clip_grad_norm_. Runs on every backend; torch comparisons skip without it."""

import numpy as np
import pytest

import tinygrad_rnn as tr
import tinygrad_rnn.nn.functional as F
from tinygrad_rnn import nn, optim

MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])


def _pair(torch, host, grad=True):
    return tr.Tensor(host, dtype=tr.float64, requires_grad=grad), torch.tensor(host, requires_grad=grad)


def _check(torch, ours, theirs, leaves, tleaves, seed=0):
    """Same values, and the same gradients for a random upstream gradient."""
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    up = np.random.default_rng(seed).standard_normal(ours.shape)
    (ours * tr.Tensor(up, dtype=tr.float64)).sum().backward()
    (theirs * torch.tensor(up)).sum().backward()
    for a, b in zip(leaves, tleaves, strict=True):
        if b.grad is None:
            assert a.grad is None or not a.grad.numpy().any()
        else:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)


# index, value shape: every index kind the getter takes, values broadcast to the indexed shape
SETITEM = [
    ("int", lambda: 1, (4,)), ("int-bcast", lambda: 1, ()), ("neg-int-slice", lambda: (-1, slice(1, None)), (1, 3)),
    ("slice-step", lambda: (slice(None), slice(None, None, 2)), (3, 1)), ("ellipsis", lambda: (Ellipsis, 2), (3,)),
    ("none", lambda: (None, 0), (1, 4)), ("list", lambda: [2, 0], (4,)), ("pair", lambda: ([0, 2], [3, 1]), (2,)),
    ("repeat", lambda: [1, 1], (1, 4)), ("mask", lambda: MASK, ()), ("mask-vals", lambda: MASK, (6,)),
    ("row-mask", lambda: np.array([True, False, True]), (4,)), ("tensor-int", lambda: "T", (2, 4)),
    ("mixed", lambda: (slice(1, None), [0, 3]), (2, 2)), ("all", lambda: Ellipsis, (4,)),
]


@pytest.mark.parametrize("name,index,vshape", SETITEM, ids=[s[0] for s in SETITEM])
def test_setitem_matches_torch(name, index, vshape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    idx = index()
    x, tx = _pair(torch, rng.standard_normal((3, 4)))
    v, tv = _pair(torch, rng.standard_normal(vshape))
    if isinstance(idx, str):  # an int64 index tensor
        ti, idx = torch.tensor([2, 0]), tr.tensor([2, 0])
    else:
        ti = torch.tensor(idx) if isinstance(idx, (list, np.ndarray)) else idx
    y, ty = x * 2.0, tx * 2.0
    # duplicates: which write wins is unspecified in PyTorch; write equal rows
    y[idx] = v.expand(2, 4) if name == "repeat" else v
    ty[ti] = tv.expand(2, 4) if name == "repeat" else tv
    assert y.grad_fn is not None and y.requires_grad
    _check(torch, y.tanh(), ty.tanh(), [x, v], [tx, tv])


def test_setitem_number_list_and_array_values_and_dtype_conversion():
    torch = pytest.importorskip("torch")
    x = tr.zeros(2, 3)
    x[0] = 1.5
    x[1, :2] = [7, 8]
    x[:, 2] = np.array([-1.0, -2.0])
    tx = torch.zeros(2, 3)
    tx[0] = 1.5
    tx[1, :2] = torch.tensor([7.0, 8.0])
    tx[:, 2] = torch.tensor([-1.0, -2.0])
    np.testing.assert_array_equal(x.numpy(), tx.numpy())
    assert x.dtype == tr.float32 and x.grad_fn is None and x._version == 3
    i = tr.zeros(3, dtype=tr.int64)
    i[1] = 2.7  # truncates, as torch does
    i[2] = tr.tensor(5.0)
    assert i.tolist() == [0, 2, 5] and i.dtype == tr.int64


def test_setitem_is_in_place_and_others_see_it():
    x = tr.zeros(2, 2)
    alias, d, row = x, x.detach(), x[0]
    arr = x.array
    x[0, 1] = 3.0
    assert x.array is arr and alias.numpy()[0, 1] == 3.0 and d.numpy()[0, 1] == 3.0 and row.numpy()[1] == 3.0
    assert x._version == d._version == row._version == 1


def test_setitem_errors():
    x = tr.zeros(2, 3)
    with pytest.raises(ValueError, match=r"__setitem__: value of shape \(2,\) cannot be broadcast to the indexed shape "
                                         r"\(3,\)"):
        x[0] = tr.ones(2)
    w = tr.zeros(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        w[0] = 1.0
    with tr.no_grad():
        w[0] = 1.0  # initialisation code does this
    assert w.numpy()[0].tolist() == [1.0, 1.0, 1.0] and w.is_leaf
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        w[0][1] = 5.0  # through a view of the leaf
    e = (w * 1.0)[:1].expand(2, 3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single memory"):
        e.add_(1.0)


VIEW_WRITES = [
    ("getitem-iadd", lambda y, v: y[1:3].__iadd__(v)),
    ("index-augmented", None),  # y[1:3] += v, as Python runs it
    ("getitem-setitem", lambda y, v: y[0].__setitem__(slice(1, 3), v[0, :2])),
    ("reshape-mul_", lambda y, v: y.reshape(2, 6).mul_(v[:, :1])),
    ("transpose-setitem", lambda y, v: y.transpose(0, 1).__setitem__(0, v[0, :3])),
    ("two-levels", lambda y, v: y[1:][:, 1:].sub_(v[0, :3])),
]


@pytest.mark.parametrize("name,op", VIEW_WRITES, ids=[c[0] for c in VIEW_WRITES])
def test_writes_through_views_match_torch(name, op):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x, tx = _pair(torch, rng.standard_normal((3, 4)))
    v, tv = _pair(torch, rng.standard_normal((2, 4)))
    y, ty = x.sigmoid() * 1.0, tx.sigmoid() * 1.0
    early, tearly = y * 2.0, ty * 2.0  # uses y before the change: keeps the old values' history
    if op is None:
        y[1:3] += v
        ty[1:3] += tv
    else:
        op(y, v)
        op(ty, tv)
    _check(torch, y.tanh() + early, ty.tanh() + tearly, [x, v], [tx, tv])


INPLACE = [
    ("add_", lambda y, o: y.add_(o), lambda y, o: y.add_(o)),
    ("add_-alpha", lambda y, o: y.add_(o, alpha=-0.5), lambda y, o: y.add_(o, alpha=-0.5)),
    ("sub_-alpha", lambda y, o: y.sub_(o, alpha=2), lambda y, o: y.sub_(o, alpha=2)),
    ("mul_", lambda y, o: y.mul_(o), lambda y, o: y.mul_(o)),
    ("div_", lambda y, o: y.div_(o.exp()), lambda y, o: y.div_(o.exp())),
    ("iadd", lambda y, o: y.__iadd__(o), lambda y, o: y.__iadd__(o)),
    ("isub", lambda y, o: y.__isub__(o), lambda y, o: y.__isub__(o)),
    ("imul", lambda y, o: y.__imul__(o), lambda y, o: y.__imul__(o)),
    ("itruediv", lambda y, o: y.__itruediv__(o.exp()), lambda y, o: y.__itruediv__(o.exp())),
    ("copy_", lambda y, o: y.copy_(o), lambda y, o: y.copy_(o)),
    ("clamp_", lambda y, o: y.clamp_(-0.3, 0.4).add_(o), lambda y, o: y.clamp_(-0.3, 0.4).add_(o)),
    ("masked_fill_", lambda y, o: y.masked_fill_(tr.Tensor(MASK[:1]), 2.0).mul_(o),
     lambda y, o: y.masked_fill_(__import__("torch").tensor(MASK[:1]), 2.0).mul_(o)),
    ("relu_", lambda y, o: y.mul_(o).sub_(0.3).relu_(), lambda y, o: y.mul_(o).sub_(0.3).relu_()),
    ("F.relu-inplace", lambda y, o: F.relu(y.add_(o), inplace=True),
     lambda y, o: __import__("torch").nn.functional.relu(y.add_(o), inplace=True)),
    ("nn.ReLU-inplace", lambda y, o: nn.ReLU(inplace=True)(y.mul_(o)),
     lambda y, o: __import__("torch").nn.ReLU(inplace=True)(y.mul_(o))),
    ("zero_-fill_", lambda y, o: y.zero_().add_(y).fill_(0.5).mul_(o),
     lambda y, o: y.zero_().add_(y).fill_(0.5).mul_(o)),
    ("chain", lambda y, o: y.mul_(o).add_(y.sum(), alpha=0.1).div_(2.0).sub_(o),
     lambda y, o: y.mul_(o).add_(y.sum(), alpha=0.1).div_(2.0).sub_(o)),
]


@pytest.mark.parametrize("name,ours,theirs", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_ops_match_torch(name, ours, theirs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, tx = _pair(torch, rng.standard_normal((3, 4)))
    o, to = _pair(torch, rng.standard_normal((4,)))
    y, ty = x.tanh() * 1.0, tx.tanh() * 1.0
    before = y
    assert ours(y, o) is before  # returns self
    theirs(ty, to)
    _check(torch, y * x, ty * tx, [x, o], [tx, to])


def test_iadd_is_in_place_on_the_same_object():
    x = tr.ones(3)
    arr, alias = x.array, x
    x += 1
    x *= tr.Tensor([1.0, 2.0, 3.0])
    assert x is alias and x.array is arr and x.tolist() == [2.0, 4.0, 6.0] and x._version == 2


def test_inplace_dtype_and_shape_rules():
    i = tr.tensor([1, 2])
    i.add_(3)
    assert i.tolist() == [4, 5] and i.dtype == tr.int64
    with pytest.raises(TypeError, match="add_: result type Float can't be cast to the desired output type Long"):
        i.add_(0.5)
    f = tr.zeros(2)
    f.add_(tr.Tensor([1.0, 2.0], dtype=tr.float64))  # float64 into float32: converted, as torch does
    assert f.dtype == tr.float32 and f.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"mul_: output with shape \(2,\) doesn't match the broadcast shape \(3, 2\)"):
        f.mul_(tr.ones(3, 2))
    c = tr.zeros(2, 3)
    c.copy_(tr.tensor([1, 2, 3]))  # broadcast and int -> float
    assert c.tolist() == [[1.0, 2.0, 3.0]] * 2
    with pytest.raises(TypeError, match="masked_fill_: expected a boolean mask"):
        c.masked_fill_(tr.tensor([1, 0, 1]), 0.0)
    with pytest.raises(ValueError, match="fill_: expected a number or a 0-dim tensor"):
        c.fill_(tr.ones(2))


def test_uniform_and_normal_fill_in_place():
    tr.manual_seed(0)
    x = tr.zeros(200, 300)
    arr = x.array
    assert x.uniform_(-2.0, 3.0) is x and x.array is arr
    v = x.numpy()
    assert -2.0 <= v.min() and v.max() < 3.0 and abs(v.mean() - 0.5) < 0.03
    x.normal_(1.0, 2.0)
    assert abs(x.numpy().mean() - 1.0) < 0.03 and abs(x.numpy().std() - 2.0) < 0.03
    p = nn.Parameter(tr.zeros(3))
    with pytest.raises(RuntimeError, match="leaf Variable"):
        p.normal_()
    with tr.no_grad():
        p.normal_()
    assert p.requires_grad and p.is_leaf


# ----- .data and detach()
def test_data_shares_storage_without_grad():
    p = nn.Parameter(tr.Tensor([1.0, 2.0]))
    d = p.data
    assert isinstance(d, tr.Tensor) and not d.requires_grad and d.grad_fn is None and d.array is p.array
    p.grad = tr.Tensor([10.0, 20.0])
    p.data.add_(p.grad, alpha=-0.1)
    assert p.tolist() == [0.0, 0.0] and d.tolist() == [0.0, 0.0] and p._version == 1 and d._version == 1
    p.data.copy_(tr.Tensor([5.0, 6.0]))
    assert p.tolist() == [5.0, 6.0] and p.requires_grad and p.is_leaf
    p.data = tr.Tensor([[1.0, 2.0, 3.0]])  # replaces the storage; the shape may change, as in torch
    assert p.shape == (1, 3) and p.requires_grad
    with pytest.raises(TypeError, match="data: expected a Tensor"):
        p.data = [1.0]
    y = p * 2.0
    assert y.data.grad_fn is None and not y.data.requires_grad


def test_detach_shares_version_counter():
    x = tr.ones(2, requires_grad=True)
    d = x.detach()
    with tr.no_grad():
        x.mul_(2.0)
    assert d.tolist() == [2.0, 2.0] and d._version == x._version == 1
    d.add_(1.0)
    assert x.tolist() == [3.0, 3.0] and x._version == 2


# ----- the version counter: errors where PyTorch raises them
def test_modified_saved_input_raises_like_torch():
    torch = pytest.importorskip("torch")
    for make in (lambda: tr.Tensor([1.0, 2.0], requires_grad=True),
                 lambda: torch.tensor([1.0, 2.0], requires_grad=True)):
        x = make()
        y = x * 1.0
        z = y * y  # saves y
        y.add_(1.0)
        with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*at version 1; expected version 0"):
            z.sum().backward()


def test_modified_saved_output_raises():
    x = tr.Tensor([0.5, -0.5], requires_grad=True)
    y = x.tanh()  # tanh's backward reads its output
    y.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"output 0 of Tanh\] is at version 1; expected version 0"):
        y.sum().backward()
    x2 = tr.Tensor([0.5, -0.5], requires_grad=True)
    y2 = x2.exp()
    with tr.no_grad():
        y2.detach()[0] = 0.0  # through another tensor over the same storage
    with pytest.raises(RuntimeError, match="output 0 of Exp"):
        y2.sum().backward()


def test_modified_through_data_or_view_raises_and_names_versions():
    w = tr.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = tr.Tensor([1.0, 1.0, 1.0], requires_grad=True)
    loss = (w * x).sum()
    w.data.mul_(2.0)
    w.data[0] = 7.0
    with pytest.raises(RuntimeError, match=r"input 0 of Mul\] is at version 2; expected version 0"):
        loss.backward()


def test_no_error_when_nothing_saved_was_changed():
    torch = pytest.importorskip("torch")
    for lib in (tr, torch):
        x = lib.ones(3, requires_grad=True) if lib is torch else tr.ones(3, requires_grad=True)
        y = x * 1.0
        z = y + 2.0  # add saves nothing
        y.mul_(3.0)
        (z.sum() + y.sum()).backward()
        assert x.grad.tolist() == [4.0, 4.0, 4.0]


def test_buffer_filled_in_a_loop_matches_torch():
    """outputs[t] = h over a loop that reads its own earlier writes: old reads keep their history."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    w, tw = _pair(torch, rng.standard_normal((3, 3)) * 0.5)
    h0, th0 = _pair(torch, rng.standard_normal((2, 3)))
    out, tout = tr.zeros(4, 2, 3, dtype=tr.float64), torch.zeros(4, 2, 3, dtype=torch.float64)
    out[0], tout[0] = h0, th0
    for t in range(1, 4):  # reads of earlier rows that nothing saves (a product would save them: both libraries raise)
        out[t] = (out[t - 1] * 0.5 + h0).tanh() @ w
        tout[t] = (tout[t - 1] * 0.5 + th0).tanh() @ tw
    out[1:3] += 1.0
    tout[1:3] += 1.0
    _check(torch, out, tout, [w, h0], [tw, th0])
    out2 = tr.zeros(3, 2, 3, dtype=tr.float64)
    out2[0] = h0
    for t in range(1, 3):
        out2[t] = out2[t - 1] @ w
    with pytest.raises(RuntimeError, match="input 0 of MatMul.* is at version 3; expected version 2"):
        out2.sum().backward()


# ----- no false version errors where the library writes into arrays itself
def test_training_loop_with_data_sgd_matches_torch():
    """A PyTorch-style loop: init through .data and nn.init-like writes, hand-written SGD through p.data, clipping,
    hidden state detached, a GRU and an LSTM: same losses as torch, no version error."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x_host, y_host = rng.standard_normal((5, 3, 4)), rng.integers(0, 6, (5 * 3,))

    def build(lib):
        lib.manual_seed(0)
        m = lib.nn.ModuleDict({"gru": lib.nn.GRU(4, 8), "lstm": lib.nn.LSTM(8, 8), "fc": lib.nn.Linear(8, 6)})
        return m.double()

    tm, m = build(torch), build(tr)
    for (_, p), (_, tp) in zip(sorted(m.named_parameters()), sorted(tm.named_parameters()), strict=True):
        with tr.no_grad():
            p.copy_(tr.Tensor(tp.detach().numpy(), dtype=tr.float64))
    losses = []
    for lib, model in ((tr, m), (torch, tm)):
        x = lib.tensor(x_host) if lib is torch else tr.Tensor(x_host, dtype=tr.float64)
        y = lib.tensor(y_host)
        state, run = None, []
        for _ in range(3):
            for p in model.parameters():
                p.grad = None
            h, _ = model["gru"](x)
            out, state = model["lstm"](h, state)
            loss = (F if lib is tr else torch.nn.functional).cross_entropy(model["fc"](out.reshape(-1, 8)), y)
            loss.backward()
            (nn if lib is tr else torch.nn).utils.clip_grad_norm_(model.parameters(), 0.5)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-0.5)
            state = tuple(s.detach() for s in state)
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-9)


def test_optimizers_and_recurrent_layers_raise_no_false_errors():
    model = nn.LSTM(3, 5, num_layers=2)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    x = tr.randn(4, 2, 3)
    with tr.no_grad():
        for p in model.parameters():
            p.uniform_(-0.3, 0.3)
    for _ in range(3):
        opt.zero_grad()
        out, (h, c) = model(x)
        ((out * out).mean() + (h * c).sum()).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()


def test_graph_walkers_follow_the_version_each_node_used():
    from tinygrad_rnn.autograd import inputs_of, topological_order

    x = tr.ones(2, requires_grad=True)
    y = x * 1.0
    made_by = y.grad_fn
    z = y + 1.0
    y.mul_(2.0)
    old = inputs_of(z.grad_fn)[0]
    assert z.grad_fn.parents[0] is y and old is not y and old.grad_fn is made_by
    assert y.grad_fn.previous.grad_fn is made_by and y.grad_fn not in topological_order(z.grad_fn)
    assert inputs_of(y.grad_fn) == y.grad_fn.parents  # made after every change: parents as they are


def test_optimizer_step_bumps_versions_like_torch():
    """An optimizer writes the parameters in place: a graph made before the step cannot be reused after it."""
    torch = pytest.importorskip("torch")
    for lib, mod, opt_mod in ((tr, nn, optim), (torch, torch.nn, torch.optim)):
        for x_grad in (False, True):  # the weight is saved only for the input's gradient
            lin = mod.Linear(3, 2)
            opt = opt_mod.SGD(lin.parameters(), lr=0.1)
            loss = (lin(lib.ones(4, 3, requires_grad=x_grad)) ** 2).sum()
            loss.backward(retain_graph=True)
            v = lin.weight._version
            opt.step()
            assert lin.weight._version == v + 1
            if x_grad:
                with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                    loss.backward()
            else:
                loss.backward()


def test_views_made_before_a_recorded_change_follow_it_like_torch():
    """A view taken before its base is written (recorded) shows the new values and, used afterwards, carries their
    history (PyTorch regenerates its grad_fn); its uses from before keep the old history."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x, tx = _pair(torch, rng.standard_normal((3, 4)))
    h, th = _pair(torch, rng.standard_normal((4,)))
    results = []
    for lib, a, b in ((tr, x, h), (torch, tx, th)):
        buf = lib.zeros(3, 4, dtype=lib.float64)
        y = a * 1.0
        row, col, flat = y[1], y[:, 2], y.reshape(12)
        before = row * 3.0 + col.sum()
        y[1] = b  # recorded: row, col and flat now show b's values
        brow = buf[0]  # a view of a buffer without grad, then written with a tensor that requires grad
        buf[0] = b * 2.0
        results.append(before.sum() + (row * row).sum() + (col * flat[:3].sum()).sum() + (brow * a[0]).sum())
    _check(torch, results[0], results[1], [x, h], [tx, th])


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
def test_recurrent_weights_changed_between_forward_and_backward_raise_like_torch(cell):
    torch = pytest.importorskip("torch")
    for lib in (tr, torch):
        layer = getattr(lib.nn, cell)(3, 4)
        out, _ = layer(lib.randn(5, 2, 3))
        with lib.no_grad():
            layer.weight_hh_l0.mul_(0.5)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def test_relu_inplace_repr_and_leaf_rule():
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)" and repr(nn.ReLU()) == "ReLU()"
    with pytest.raises(RuntimeError, match="relu_: a leaf Variable that requires grad"):
        F.relu(tr.ones(2, requires_grad=True), inplace=True)


def test_deprecated_add_number_tensor_order_works_with_a_warning_like_torch():
    torch = pytest.importorskip("torch")
    p, tp = tr.ones(3), torch.ones(3)
    with pytest.warns(UserWarning, match="add_\\(Number alpha, Tensor other\\) is deprecated"):
        p.add_(-0.5, tr.Tensor([2.0, 4.0, 6.0]))
    with pytest.warns(UserWarning):
        tp.add_(-0.5, torch.tensor([2.0, 4.0, 6.0]))
    with pytest.warns(UserWarning, match="sub_"):
        p.sub_(2, tr.ones(3))
    tp.sub_(torch.ones(3), alpha=2)
    assert p.tolist() == tp.tolist() == [-2.0, -3.0, -4.0]
