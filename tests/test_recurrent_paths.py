"""The paths of the recurrent layers agree: a Run node (a layer direction as one node) and a node per step give the
same gradients and show the same steps and gradient norms, a workspace and fresh arrays give the same gradients, the
engine's hooks change no gradient, for whole and partial graphs, and twice with retain_graph. Plus the engine's
in-place sums never write into a caller's gradient array."""

import contextlib

import numpy as np
import pytest
from test_recurrent_core import _layer  # IN=3, H=4 there too

import tinygrad_rnn as tr
from tinygrad_rnn import autograd, grads
from tinygrad_rnn.autograd import topological_order
from tinygrad_rnn.kernels import cells, fused

T, N, IN, H = 5, 3, 3, 4  # IN and H as test_recurrent_core's _layer builds them
KINDS = ("rnn", "rnn_relu", "lstm", "lstm_proj", "gru", "gru_before")


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    x = tr.Tensor(rng.standard_normal((T, N, IN)), requires_grad=True, dtype=tr.float64)
    return rng, x


def _loss(layer, x, rng, use_output=True, use_state=True):
    out, st = layer(x)
    h_n = st[0] if isinstance(st, tuple) else st
    loss = 0.0
    if use_output:
        loss = (out * tr.Tensor(rng.standard_normal(out.shape), dtype=tr.float64)).sum()
    if use_state:
        loss = loss + (h_n * tr.Tensor(rng.standard_normal(h_n.shape), dtype=tr.float64)).sum()
        if isinstance(st, tuple):
            loss = loss + (st[1] * st[1]).sum()
    return loss


def _grads(layer, x, **kw):
    layer.zero_grad()
    x.grad = None
    rng = np.random.default_rng(1)
    _loss(layer, x, rng, **kw).backward()
    return [np.array(x.grad.numpy())] + [np.array(p.grad.numpy()) for p in layer.parameters()]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("use_output,use_state", ((True, True), (False, True), (True, False)))
def test_hooks_leave_gradients_unchanged(kind, use_output, use_state):
    # record_grad_norms() watches every node; the gradients are the same with and without it
    layer = _layer(kind, num_layers=2, bidirectional=True)
    _, x = _inputs()
    plain = _grads(layer, x, use_output=use_output, use_state=use_state)
    with autograd.record_grad_norms():
        watched = _grads(layer, x, use_output=use_output, use_state=use_state)
    for a, b in zip(plain, watched, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ("rnn", "lstm", "gru"))
def test_backward_twice_with_retain_graph(kind):
    layer = _layer(kind)
    rng, x = _inputs()
    loss = _loss(layer, x, rng)
    loss.backward(retain_graph=True)
    once = [np.array(p.grad.numpy()) for p in layer.parameters()]
    loss.backward()
    for a, p in zip(once, layer.parameters(), strict=True):
        np.testing.assert_allclose(p.grad.numpy(), 2 * a, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("record", (False, True))
def test_backward_never_writes_into_the_callers_gradient(kind, record):
    # the engine sums a step's state gradients in place into the fresh one; the other is a view of the caller's
    layer = _layer(kind)
    _, x = _inputs()
    g = np.random.default_rng(2).standard_normal((T, N, layer.proj_size or H))
    kept = g.copy()
    with autograd.record_grad_norms() if record else contextlib.nullcontext():
        out, _ = layer(x)
        out.backward(tr.Tensor(g, dtype=tr.float64))
    np.testing.assert_array_equal(g, kept)


def _step_nodes(out):
    """(layer, direction, step) -> the step's node, or its record when a Run node ran the direction."""
    found = {}
    for fn in topological_order(out.grad_fn):
        for st in fn.steps or [fn]:
            if "step" in st.tag:
                found[(st.tag["layer"], st.tag["direction"], st.tag["step"])] = st
    return found


def _stack_norms(out):
    """The norm recorded on the edge from each step's state into the layer output, by (direction, step)."""
    fn = out.grad_fn
    if fn.reads_steps:
        return {(d, t): n for d, per in enumerate(fn.step_grad_norms) for t, n in enumerate(per)}
    return {(i // T, i % T): n for i, n in enumerate(fn.grad_norms)}


def _loss_of(out, st, rng):
    h_n = st[0] if isinstance(st, tuple) else st
    return (out * tr.Tensor(rng.standard_normal(out.shape), dtype=tr.float64)).sum() + (h_n * h_n).sum()


@pytest.mark.parametrize("kind", KINDS)
def test_run_records_are_the_step_nodes(kind, monkeypatch):
    # a Run node's per-step records show what a node per step shows: name, tag, shape, dtype, and after a recorded
    # backward the same gradient norms on every edge (what the visualizer draws), the output's edges included
    layer = _layer(kind, num_layers=2, bidirectional=True)
    _, x = _inputs()

    def graph():
        layer.zero_grad()
        with autograd.record_grad_norms():
            out, st = layer(x)
            steps = _step_nodes(out)
            _loss_of(out, st, np.random.default_rng(1)).backward()
        return steps, _stack_norms(out)
    run, run_norms = graph()
    assert {type(s).__name__ for s in run.values()} == {"Step"}
    monkeypatch.setattr(fused, "ONE_NODE_PER_RUN", False)
    nodes, node_norms = graph()
    assert all(isinstance(s, cells.Cell) for s in nodes.values())
    assert sorted(run) == sorted(nodes) == [(k, d, t) for k in range(2) for d in range(2) for t in range(T)]
    for key, a in run.items():
        b = nodes[key]
        assert (a.name, a.tag, tuple(a.out_shape), a.dtype, a.released) == (b.name, b.tag, tuple(b.out_shape),
                                                                             b.dtype, b.released)
        np.testing.assert_allclose(a.out_grad_norm, b.out_grad_norm, rtol=1e-12)
        assert len(a.grad_norms) == len(b.grad_norms)
        for u, v in zip(a.grad_norms, b.grad_norms, strict=True):
            assert (u is None) == (v is None)
            if u is not None:
                np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-300)
    assert sorted(run_norms) == sorted(node_norms)
    for key, n in run_norms.items():
        np.testing.assert_allclose(n, node_norms[key], rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_workspace_and_fresh_arrays_agree(kind, monkeypatch):
    # the same cell code runs with a layer direction's workspace (the layers' path) and without (masked runs, cells)
    layer = _layer(kind, num_layers=2, bidirectional=True)
    _, x = _inputs()
    with_ws = _grads(layer, x)
    monkeypatch.setattr(fused, "step_workspace", lambda *a, **k: None)
    without = _grads(layer, x)
    for a, b in zip(with_ws, without, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("use_output,use_state", ((True, True), (False, True), (True, False)))
def test_run_nodes_and_step_nodes_agree(kind, use_output, use_state, monkeypatch):
    # a Run node runs a layer direction's steps in one node and joins their gx and weight gradients; turned off, every
    # step is an ordinary node. Whole and partial graphs, two layers, both directions.
    layer = _layer(kind, num_layers=2, bidirectional=True)
    _, x = _inputs()
    out, _ = layer(x)
    assert sum(1 for fn in topological_order(out.grad_fn) if fn.steps) == 4  # one per layer direction
    runs = _grads(layer, x, use_output=use_output, use_state=use_state)
    monkeypatch.setattr(fused, "ONE_NODE_PER_RUN", False)
    out, _ = layer(x)
    assert not any(fn.steps for fn in topological_order(out.grad_fn))
    nodes = _grads(layer, x, use_output=use_output, use_state=use_state)
    for a, b in zip(runs, nodes, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)



@pytest.mark.parametrize("kind", ("lstm", "lstm_proj", "gru"))
def test_run_takes_its_result_gradient_in_parts(kind, monkeypatch):
    # the layer output's gradient covers only the h rows of an LSTM's states and the final state's one step: the
    # Run node (lazy_grad) adds each part where its step needs it; no array of the whole (T, N, W) result is made
    layer = _layer(kind)
    _, x = _inputs()
    seen, made = [], []
    backward, value = fused.Run.backward, grads.Accumulator.value
    monkeypatch.setattr(fused.Run, "backward", lambda self, g: (seen.append(type(g).__name__), backward(self, g))[1])
    monkeypatch.setattr(grads.Accumulator, "value", lambda self: (made.append(tuple(self.shape)), value(self))[1])
    lazy = _grads(layer, x)
    out, _ = layer(x)
    whole = next(tuple(fn.out_shape) for fn in topological_order(out.grad_fn) if fn.steps)  # the Run's result
    assert seen == ["Accumulator"] and whole == (T, N, layer.proj_size + H if kind == "lstm_proj" else
                                                 (2 * H if kind == "lstm" else H)) and whole not in made
    with autograd.record_grad_norms():  # a hook watches every node: the dense gradient, the same numbers
        watched = _grads(layer, x)
    assert seen[-1] != "Accumulator" and whole in made
    for a, b in zip(lazy, watched, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ("rnn", "rnn_relu", "lstm", "gru"))  # (W_hr and the paper's GRU have no blocks)
def test_joined_weight_products_and_concatenated_factors_agree(kind, monkeypatch):
    # with grads.JOIN (what bench_charlm --ablate turns off) a Run's dW_hh is one product read from its blocks; off,
    # the steps' factors are concatenated first (an Accumulator of T OuterGrads). Same gradients either way.
    layer = _layer(kind, num_layers=2, bidirectional=True)
    _, x = _inputs()
    factors, value = [], grads.Accumulator.value
    monkeypatch.setattr(grads.Accumulator, "value", lambda self: (factors.append(len(self.lefts)), value(self))[1])
    joined = _grads(layer, x)
    assert max(factors, default=0) <= 1
    monkeypatch.setattr(grads, "JOIN", False)
    factors.clear()
    apart = _grads(layer, x)
    assert max(factors) == T  # a weight's T per-step products, concatenated
    for a, b in zip(joined, apart, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
