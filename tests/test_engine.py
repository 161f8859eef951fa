"""The backward engine: iterative over deep graphs, frees saved arrays but keeps structure, retain_graph, no_grad,
detach, tags, gradient-norm recording, lazy IndexGrad/OuterGrad gradients, retain_grad, detect_anomaly and seeding.
Runs on every backend (also TINYGRAD_RNN_GPU=strict)."""

import inspect
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import autograd
from tinygrad_rnn import backend as B
from tinygrad_rnn.autograd import Function, IndexGrad, OuterGrad

xp = B.xp


def f64(a, requires_grad=False):
    return tr.Tensor(a, dtype=tr.float64, requires_grad=requires_grad)


# ----- deep graphs
def test_10000_op_chain_backward_is_iterative_and_fast():
    x = tr.Tensor([0.5, -1.0], requires_grad=True, dtype=tr.float64)
    c = f64([1.0001, 1.0001])  # same shape: the chain is 10,000 Mul nodes, no Expand
    y = x
    t0 = time.perf_counter()
    for _ in range(10_000):
        y = y * c
    y.sum().backward()
    elapsed = time.perf_counter() - t0
    assert len(autograd.topological_order(y.grad_fn)) == 10_000
    np.testing.assert_allclose(x.grad.numpy(), [1.0001**10_000] * 2, rtol=1e-9)
    assert elapsed < 10.0, f"10,000-op chain took {elapsed:.1f}s"


def _rnn_reference(x, w, u, g):
    """Hand-written BPTT for h_t = tanh(x_t @ w + h_{t-1} @ u), loss = sum(h_T * g)."""
    hs = [np.zeros((x.shape[1], w.shape[1]))]
    for t in range(x.shape[0]):
        hs.append(np.tanh(x[t] @ w + hs[-1] @ u))
    dx, dw, du, dh = np.zeros_like(x), np.zeros_like(w), np.zeros_like(u), g
    for t in reversed(range(x.shape[0])):
        da = dh * (1 - hs[t + 1] ** 2)
        dw += x[t].T @ da
        du += hs[t].T @ da
        dx[t] = da @ w.T
        dh = da @ u.T
    return hs[-1], dx, dw, du


def test_unrolled_1000_steps_matches_hand_written_bptt(rng):
    steps, n, i, h = 1000, 2, 3, 4
    xh, wh, uh = rng.standard_normal((steps, n, i)), rng.standard_normal((i, h)), 0.5 * rng.standard_normal((h, h))
    g = rng.standard_normal((n, h))
    x, w, u = f64(xh, True), f64(wh, True), f64(uh, True)
    t0 = time.perf_counter()
    state = tr.zeros(n, h, dtype=tr.float64)
    for t in range(steps):
        with tr.tag(module="rnn", step=t):
            state = (x[t] @ w + state @ u).tanh()
    (state * f64(g)).sum().backward()
    elapsed = time.perf_counter() - t0
    h_ref, dx, dw, du = _rnn_reference(xh, wh, uh, g)
    np.testing.assert_allclose(state.numpy(), h_ref, rtol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), dw, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(u.grad.numpy(), du, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), dx, rtol=1e-8, atol=1e-12)
    assert state.grad_fn.tag == {"module": "rnn", "step": steps - 1}
    assert elapsed < 20.0, f"T=1000 unrolled forward+backward took {elapsed:.1f}s"


class Counted(Function):
    calls = 0

    def forward(self, a):
        return a * 2.0

    def backward(self, g):
        Counted.calls += 1
        return g * 2.0


def test_diamond_runs_each_backward_once_after_all_gradients_arrive():
    x = f64([1.0, 2.0], True)
    shared = Counted.apply(x)
    y = (shared * shared + shared.exp() + shared).sum()
    Counted.calls = 0
    y.backward()
    s = 2 * np.array([1.0, 2.0])
    assert Counted.calls == 1
    np.testing.assert_allclose(x.grad.numpy(), 2 * (2 * s + np.exp(s) + 1))


# ----- freeing, structure and retain_graph
def test_backward_frees_saved_arrays_but_keeps_structure():
    a, b = f64([[1.0, 2.0]], True), f64([[3.0], [4.0]], True)
    with tr.tag(module="lin", layer=2):
        y = (a @ b).tanh()
    tanh_fn, mm_fn = y.grad_fn, y.grad_fn.parents[0].grad_fn
    assert "y" in vars(tanh_fn) and {"a", "b"} <= set(vars(mm_fn))
    y.sum().backward()
    for fn, name, parents in [(tanh_fn, "Tanh", 1), (mm_fn, "MatMul", 2)]:
        assert fn.released is True
        assert fn.name == name and len(fn.parents) == parents
        assert fn.tag == {"module": "lin", "layer": 2} and tuple(fn.out_shape) == (1, 1)
        assert not {"y", "a", "b"} & set(vars(fn)), f"{name} kept saved arrays: {sorted(vars(fn))}"
    assert mm_fn.parents[0] is a and mm_fn.parents[1] is b
    assert y.grad_fn is tanh_fn and tanh_fn.parents[0].grad_fn is mm_fn


def test_second_backward_without_retain_graph_raises():
    x = f64([1.0, 2.0], True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"retain_graph=True.*detach\(\)"):
        y.backward()
    z = (x * x).sum()  # a fresh graph over the same leaf is fine
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_shared_subgraph_second_backward_raises():
    x = f64([1.0, 2.0], True)
    h = x.exp()
    (h * 2).sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (h * 3).sum().backward()


def test_retain_graph_allows_two_backwards_with_doubled_grads():
    x = f64([1.0, -2.0, 3.0], True)
    y = (x.tanh() * x).sum()
    y.backward(retain_graph=True)
    once = x.grad.numpy().copy()
    assert y.grad_fn.released is False
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * once)
    xn = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(once, np.tanh(xn) + xn * (1 - np.tanh(xn) ** 2))
    assert y.grad_fn.released is True


# ----- grad mode and detach
def test_no_grad_records_nothing_and_restores_mode():
    x = f64([1.0, 2.0], True)
    with tr.no_grad():
        assert not tr.is_grad_enabled()
        y = (x * 3).exp().sum()
        with tr.enable_grad():
            z = x * 2
    assert tr.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert z.requires_grad and z.grad_fn.name == "Mul"
    with pytest.raises(ValueError):
        with tr.no_grad():
            raise ValueError("boom")
    assert tr.is_grad_enabled()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_detach_cuts_the_graph_and_shares_values():
    x = f64([1.0, 2.0], True)
    y = x * 2
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad
    np.testing.assert_array_equal(d.numpy(), y.numpy())
    (d * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])  # d counts as a constant: not 4x


# ----- tags
def test_tags_nest_merge_override_and_restore():
    x = f64([1.0], True)
    with tr.tag(module="rnn", layer=0):
        a = x * 2
        with tr.tag(step=3, direction=1):
            b = a + 1
            with tr.tag(layer=1):
                c = b.tanh()
        d = c * 1
    e = d * 1
    assert a.grad_fn.tag == {"module": "rnn", "layer": 0}
    assert b.grad_fn.tag == {"module": "rnn", "layer": 0, "step": 3, "direction": 1}
    assert c.grad_fn.tag == {"module": "rnn", "layer": 1, "step": 3, "direction": 1}
    assert d.grad_fn.tag == {"module": "rnn", "layer": 0}
    assert e.grad_fn.tag == {}
    with pytest.raises(KeyError):
        with tr.tag(step=9):
            raise KeyError
    assert (x * 1).grad_fn.tag == {}


# ----- gradient-norm recording
def test_record_grad_norms_matches_hand_computed_norms(rng):
    a, b = f64(rng.standard_normal((3, 2)), True), f64(rng.standard_normal((3, 2)))
    g = rng.standard_normal((3, 2))
    y = a * b
    z = y * f64(g)
    with tr.record_grad_norms():
        z.sum().backward()
    an, bn = a.numpy(), b.numpy()
    mul_ab = y.grad_fn
    assert mul_ab.out_grad_norm == pytest.approx(np.linalg.norm(g))
    assert mul_ab.grad_norms[0] == pytest.approx(np.linalg.norm(g * bn))
    assert mul_ab.grad_norms[1] is None  # b does not require grad: no gradient along that edge
    assert z.grad_fn.out_grad_norm == pytest.approx(np.sqrt(6.0))
    assert z.grad_fn.grad_norms[0] == pytest.approx(np.linalg.norm(g))
    np.testing.assert_allclose(a.grad.numpy(), g * bn)
    del an
    w = f64([1.0], True)
    (w * 2).sum().backward()  # outside the context nothing is recorded
    assert not hasattr((w * 2).grad_fn, "grad_norms")


# ----- lazy gradients: custom Functions that return IndexGrad / OuterGrad
class PickRow(Function):
    """a[i] for a 2-D a; backward is an IndexGrad, as the recurrent layers use for x[t]."""

    def forward(self, a, i=0):
        self.i = i
        return a[i, ...]

    def backward(self, g):
        return IndexGrad((self.i,), g)


class RowsTimesWeight(Function):
    """y = x @ w.T for x (N, I), w (H, I); dw = g.T @ x returned as an OuterGrad."""

    def forward(self, x, w):
        self.x, self.w = x, w
        return xp.matmul(x, xp.permute_dims(w, (1, 0)))

    def backward(self, g):
        nx, nw = self.needs_input_grad
        return (xp.matmul(g, self.w) if nx else None), (OuterGrad(g, self.x) if nw else None)


def test_index_grad_gradcheck_and_mixed_with_dense(rng):
    a = f64(rng.standard_normal((4, 3)), True)
    assert tr.gradcheck(lambda t: PickRow.apply(t, i=2), [a])
    assert tr.gradcheck(lambda t: PickRow.apply(t, i=1) * PickRow.apply(t, i=-1) + PickRow.apply(t, i=1), [a])
    # dense first then index, and index first then dense, into the same input
    assert tr.gradcheck(lambda t: (t * 3.0).sum(0) + PickRow.apply(t, i=0), [a])
    assert tr.gradcheck(lambda t: PickRow.apply(t, i=3) + t.tanh().sum(0), [a])


def test_index_grad_into_non_leaf_from_many_steps_with_retain_grad(rng):
    a = f64(rng.standard_normal((5, 2)), True)
    g = rng.standard_normal((5, 2))
    xs = a * 2.0
    xs.retain_grad()
    out = tr.stack([PickRow.apply(xs, i=t) for t in range(5)] + [PickRow.apply(xs, i=0)])
    (out * f64(np.concatenate([g, g[:1]]))).sum().backward()
    expected = g.copy()
    expected[0] += g[0]
    np.testing.assert_allclose(xs.grad.numpy(), expected)
    np.testing.assert_allclose(a.grad.numpy(), 2 * expected)


def test_outer_grad_gradcheck_leaf_over_several_steps_and_mixed(rng):
    w = f64(rng.standard_normal((3, 2)), True)
    xs = [f64(rng.standard_normal((4, 2)), True) for _ in range(3)]

    def unrolled(w, *xs):
        h = None
        for x in xs:
            y = RowsTimesWeight.apply(x, w).tanh()
            h = y if h is None else h + y
        return h

    assert tr.gradcheck(unrolled, [w, *xs])
    assert tr.gradcheck(lambda w, x: RowsTimesWeight.apply(x, w) + (w * w).sum(), [w, xs[0]])  # outer + dense
    # a non-leaf weight (w * 1.5) collecting OuterGrads from several steps, then one dense backward
    assert tr.gradcheck(lambda w, a, b: unrolled(w * 1.5, a, b), [w, xs[0], xs[1]])


def test_outer_grad_equals_explicit_product(rng):
    w = f64(rng.standard_normal((3, 2)), True)
    xh = [rng.standard_normal((4, 2)) for _ in range(3)]
    gs = [rng.standard_normal((4, 3)) for _ in range(3)]
    total = None
    for x, g in zip(xh, gs, strict=True):
        term = (RowsTimesWeight.apply(f64(x), w) * f64(g)).sum()
        total = term if total is None else total + term
    with tr.record_grad_norms():
        total.backward()
    np.testing.assert_allclose(w.grad.numpy(), sum(g.T @ x for x, g in zip(xh, gs, strict=True)), rtol=1e-12)


def test_retain_grad_on_non_leaf_sums_every_path():
    x = f64([1.0, -2.0], True)
    h = x * 3.0
    assert h.retain_grad() is h
    k = x * 5.0  # not retained
    ((h * h).sum() + h.sum() + k.sum()).backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.numpy() + 1)
    assert k.grad is None
    np.testing.assert_allclose(x.grad.numpy(), 3 * (2 * h.numpy() + 1) + 5)


def test_leaf_backward_and_explicit_gradient():
    x = f64([1.0, 2.0], True)
    x.backward(f64([3.0, 4.0]))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])
    y = x * 2
    y.backward(np.array([1.0, 1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 6.0])


# ----- anomaly detection (and no NumPy warnings either way: pytest turns RuntimeWarning into errors)
def test_nan_in_forward_is_silent_without_anomaly_mode():
    y = tr.Tensor([-1.0, 0.0, 4.0]).log()
    out = y.numpy()
    assert np.isnan(out[0]) and out[1] == -np.inf and out[2] == pytest.approx(np.log(4.0))


def test_detect_anomaly_forward_names_op_and_user_line():
    x = tr.Tensor([1.0, -1.0], requires_grad=True)
    with tr.detect_anomaly():
        ok = x * 2
        line = inspect.currentframe().f_lineno + 2
        with pytest.raises(RuntimeError, match=rf"Log produced NaN or Inf in forward.*test_engine\.py:{line}\b"):
            x.log()
    assert ok.shape == (2,)


def test_detect_anomaly_backward_names_op_and_where_it_was_created():
    x = tr.Tensor([0.0, 4.0], requires_grad=True)
    with tr.detect_anomaly():
        line = inspect.currentframe().f_lineno + 1
        y = x.sqrt()
        loss = (y * 2).sum()
        with pytest.raises(RuntimeError, match=rf"Pow produced NaN or Inf in backward.*test_engine\.py:{line}\b"):
            loss.backward()
    z = tr.Tensor([0.0, 4.0], requires_grad=True)
    z.sqrt().sum().backward()  # without anomaly mode: an inf gradient, no warning
    assert z.grad.numpy()[0] == np.inf and z.grad.numpy()[1] == pytest.approx(0.25)


# ----- seeding
DRAW = "import tinygrad_rnn as tr; tr.manual_seed(7); print(tr.randn(3, 2).numpy().tobytes().hex(), " \
       "tr.rand(4, dtype=tr.float64).numpy().tobytes().hex())"


def test_manual_seed_repeats_draws_and_matches_across_backends():
    def draw():
        tr.manual_seed(7)
        return tr.randn(3, 2).numpy().tobytes().hex(), tr.rand(4, dtype=tr.float64).numpy().tobytes().hex()

    first, second = draw(), draw()
    assert first == second
    tr.manual_seed(8)
    assert tr.randn(3, 2).numpy().tobytes().hex() != first[0]
    other = "0" if B.NAME == "strict" else "strict"
    env = {**os.environ, "TINYGRAD_RNN_GPU": other}
    res = subprocess.run([sys.executable, "-c", DRAW], env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert tuple(res.stdout.split()) == first
