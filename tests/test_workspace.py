"""Workspaces are reused across batches only when nothing holds them: an output, a graph node or a retained gradient
the user still has is never overwritten by a later forward, and steady training makes no new workspace arrays."""

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import backend as B
from tinygrad_rnn import nn

pooled = pytest.mark.skipif(not B.REUSE, reason="only NumPy reuses arrays (CuPy has its own memory pool)")
CELLS = ("RNN", "LSTM", "GRU")


def _x(seed, T=4, N=3, F=5):
    return tr.Tensor(np.random.default_rng(seed).standard_normal((T, N, F)), dtype=tr.float64, requires_grad=True)


@pooled
def test_reusable_empty_reuses_only_what_nobody_holds():
    a = B.reusable_empty((7, 3), B.float64)
    first, held = id(a), a[1:]  # a view keeps it busy
    del a
    b = B.reusable_empty((7, 3), B.float64)
    assert id(b) != first
    del held, b
    assert id(B.reusable_empty((7, 3), B.float64)) == first


@pytest.mark.parametrize("cell", CELLS)
def test_held_outputs_and_graphs_survive_later_forwards(cell):
    tr.manual_seed(0)
    layer = getattr(nn, cell)(5, 6, dtype=tr.float64)
    out1, _ = layer(_x(1))
    kept = out1.numpy().copy()
    g = np.random.default_rng(2).standard_normal(out1.shape)
    for seed in range(3, 6):  # later batches of the same shape, trained to the end
        out, _ = layer(_x(seed))
        out.backward(tr.Tensor(np.ones(out.shape), dtype=tr.float64))
    np.testing.assert_array_equal(out1.numpy(), kept)
    # out1's graph is intact too: its backward gives what a fresh run on the same input gives
    layer.zero_grad()
    out1.backward(tr.Tensor(g, dtype=tr.float64))
    first = [p.grad.numpy().copy() for p in layer.parameters()]
    layer.zero_grad()
    out, _ = layer(_x(1))
    out.backward(tr.Tensor(g, dtype=tr.float64))
    for a, p in zip(first, layer.parameters(), strict=True):
        np.testing.assert_array_equal(a, p.grad.numpy())


@pooled
@pytest.mark.parametrize("cell", CELLS)
def test_steady_training_makes_no_new_workspace(cell):
    tr.manual_seed(0)
    layer = getattr(nn, cell)(5, 6, dtype=tr.float64)
    made = []
    real = B.np.empty

    def counting(*a, **k):
        made.append(a[0])
        return real(*a, **k)

    out = None
    for seed in range(6):
        if seed == 3:  # warmed up: from here on the pool serves every workspace array
            B.np.empty = counting
        try:
            out, _ = layer(_x(seed))  # the previous `out` is still held while this forward runs
            out.backward(tr.Tensor(np.ones(out.shape), dtype=tr.float64))
        finally:
            B.np.empty = real
    assert not [s for s in made if len(s) == 3 and s[-1] % 6 == 0], made  # no (T, N, k*H) workspace block


@pytest.mark.parametrize("order", ("C", "F"))
def test_matmul_like_gives_the_product_in_the_layout_asked(order):
    rng = np.random.default_rng(0)
    a, b = B.asarray(rng.standard_normal((6, 4))), B.asarray(rng.standard_normal((4, 5)))
    like = B.asarray(np.asarray(rng.standard_normal((6, 5)), order=order))
    out = B.matmul_like(a, b, like)
    np.testing.assert_allclose(B.to_host(out), B.to_host(a) @ B.to_host(b), rtol=1e-13, atol=1e-13)
    if B.NAME == "numpy":
        assert out.flags.f_contiguous == (order == "F") and out.flags.c_contiguous == (order == "C")
