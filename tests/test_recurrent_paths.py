"""The paths of the recurrent layers agree: run_steps builds the graph the per-step helpers build (also under
detect_anomaly()), a workspace and fresh arrays give the same gradients, the engine's hooks change no gradient, for
whole and partial graphs, and twice with retain_graph. Plus the engine's in-place sums never write into a caller's
gradient array."""

import contextlib

import numpy as np
import pytest
from test_recurrent_core import _layer  # IN=3, H=4 there too

import tinygrad_rnn as tr
from tinygrad_rnn import autograd
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


@pytest.mark.parametrize("kind", KINDS)
def test_fast_node_loop_builds_the_graph_of_the_per_step_helpers(kind):
    layer = _layer(kind, num_layers=2, bidirectional=True)
    rng, x = _inputs()

    def nodes():
        out, _ = layer(x)
        return [(f.name, f.tag, tuple(f.out_shape), str(f.dtype), f.needs_input_grad, len(f.parents))
                for f in topological_order(out.grad_fn)]
    fast = nodes()
    with autograd.detect_anomaly():  # run_steps takes the per-step helpers in anomaly mode
        slow = nodes()
    assert fast == slow
    assert sum(1 for n in fast if n[1].get("kind") == "cell") == 2 * 2 * T


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
def test_chained_steps_and_step_nodes_agree(kind, use_output, use_state, monkeypatch):
    # Cell.chain (the engine's extension point) runs a layer direction's steps in one loop and joins their gx and
    # weight gradients; turned off, every step is an ordinary node. Whole and partial graphs, two layers, both ways.
    layer = _layer(kind, num_layers=2, bidirectional=True)
    _, x = _inputs()
    runs = []
    chain = cells.Cell.chain

    def counted(self, g, pending):
        run = chain(self, g, pending)
        runs.append(None if run is None else len(run[3]))
        return run
    monkeypatch.setattr(cells.Cell, "chain", counted)
    chained = _grads(layer, x, use_output=use_output, use_state=use_state)
    assert runs == [T] * 4  # one run per layer direction, each over all T steps
    monkeypatch.setattr(cells, "CHAIN", False)
    runs.clear()
    nodes = _grads(layer, x, use_output=use_output, use_state=use_state)
    assert runs == [None] * (4 * T)
    for a, b in zip(chained, nodes, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_chain_stops_at_a_retained_state():
    # a step whose state retains its gradient ends the run there; the gradients stay those of the step nodes
    layer = _layer("lstm")
    rng, x = _inputs()
    w = tr.Tensor(rng.standard_normal((T, N, H)), dtype=tr.float64)
    out, (h_n, _) = layer(x)
    mid = out.grad_fn.parents[T // 2]  # a step's state, kept by the stacked output's node
    mid.retain_grad()
    ((out * w).sum() + h_n.sum()).backward()
    assert mid.grad is not None and mid.grad.shape == mid.shape
    got = [np.array(mid.grad.numpy())] + [np.array(p.grad.numpy()) for p in layer.parameters()]
    layer.zero_grad()
    with autograd.record_grad_norms():  # hooks: no chain, every step a node
        out, (h_n, _) = layer(x)
        mid = out.grad_fn.parents[T // 2]
        mid.retain_grad()
        ((out * w).sum() + h_n.sum()).backward()
    want = [mid.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
