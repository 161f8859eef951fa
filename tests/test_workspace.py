"""Workspaces are reused across batches only when nothing holds them: an output, a graph node or a retained gradient
the user still has is never overwritten by a later forward, and steady training makes no new workspace arrays."""

import contextlib
import sys
import tracemalloc

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


@pooled
def test_pool_keeps_a_bounded_number_of_free_bytes(monkeypatch):
    """Many shapes in turn (generation with a growing length): the arrays nobody holds are dropped past
    POOL_FREE_BYTES; an array still held stays in the pool, and a shape in steady use is still served from it."""
    monkeypatch.setattr(B, "POOL_FREE_BYTES", 10_000)
    monkeypatch.setattr(B._per_thread, "pool", {}, raising=False)
    held = B.reusable_empty((100,), B.float64)
    for n in range(200, 2000, 100):
        B.reusable_empty((n,), B.float64)
        free = sum(a.nbytes for arrays in B._per_thread.pool.values() for a in arrays if sys.getrefcount(a) == 3)
        assert free <= 10_000 + n * 8
    assert any(a is held for a in B._per_thread.pool[((100,), B.float64)])
    first = id(B.reusable_empty((1900,), B.float64))
    assert id(B.reusable_empty((1900,), B.float64)) == first


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



@pytest.mark.parametrize("cell", ("LSTM", "GRU"))
def test_gate_activations_overwrite_the_layers_own_projection(cell):
    """A layer's steps keep their gate activations in the rows of the layer's input projection, which nothing else
    reads (no other array written per step), and the layer still gives the primitive twins' values and gradients."""
    from tinygrad_rnn.kernels import fused

    tr.manual_seed(0)
    layer = getattr(nn, cell)(5, 6, dtype=tr.float64)
    results = []
    for primitives in (False, True):
        with tr.use_primitives() if primitives else contextlib.nullcontext():
            x = _x(1)
            out, _ = layer(x)
            if not primitives:
                run = out.grad_fn.parents[-1].grad_fn  # the direction's Run node: its input is the projection gx
                step, gx = run.cells[-1], run.parents[0].array  # the last step
                kept = step.y if cell == "LSTM" else step.rz
                if B.NAME == "numpy":  # (device arrays have no host memory to compare)
                    assert np.shares_memory(kept, gx)
            layer.zero_grad()
            out.backward(tr.Tensor(np.random.default_rng(2).standard_normal(out.shape), dtype=tr.float64))
            results.append([out.numpy(), x.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()])
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    # the step helpers with a workspace made without the projection leave a caller's gx as it was
    gx = tr.Tensor(np.random.default_rng(3).standard_normal((4, 3, 18)), dtype=tr.float64)
    before = gx.numpy().copy()
    h0 = tr.zeros(3, 6, dtype=tr.float64)
    ws = fused.step_workspace(h0.array, 4, 6, kind="gru")
    w_hh = tr.Tensor(np.random.default_rng(4).standard_normal((18, 6)), dtype=tr.float64)
    fused.run_steps("gru", gx, h0, (w_hh, None), range(4), ws=ws)
    np.testing.assert_array_equal(gx.numpy(), before)

def test_matmul_pooled_gives_the_product_in_a_reused_array():
    rng = np.random.default_rng(0)
    a, b = B.asarray(rng.standard_normal((6, 4))), B.asarray(rng.standard_normal((4, 5)))
    out = B.matmul_pooled(a, b)
    np.testing.assert_allclose(B.to_host(out), B.to_host(a) @ B.to_host(b), rtol=1e-13, atol=1e-13)
    if B.REUSE:
        first = id(out)
        assert id(B.matmul_pooled(a, b)) != first  # `out` is still held
        del out
        assert id(B.matmul_pooled(a, b)) == first


def _lm(seed=0):
    tr.manual_seed(seed)
    return nn.Embedding(11, 5, dtype=tr.float64), nn.Linear(5, 11, dtype=tr.float64)


def _tokens(seed, n=40):
    return tr.tensor(np.random.default_rng(seed).integers(0, 11, n))


def test_held_embedding_logits_and_gradients_survive_later_steps():
    """Embedding rows, Linear's output and cross-entropy's arrays come from the pool: what the user still holds
    (outputs, a retained gradient, a graph not yet run backward) is never overwritten by later steps."""
    emb, fc = _lm()
    x1, y1 = _tokens(1), _tokens(2)
    e1 = emb(x1)
    e1.retain_grad()
    logits1 = fc(e1)
    loss1 = nn.functional.cross_entropy(logits1, y1)
    kept = e1.numpy().copy(), logits1.numpy().copy(), loss1.item()
    for seed in range(3, 8):  # later steps of the same shapes, run to the end
        loss = nn.functional.cross_entropy(fc(emb(_tokens(seed))), _tokens(seed + 10))
        loss.backward()
    np.testing.assert_array_equal(e1.numpy(), kept[0])
    np.testing.assert_array_equal(logits1.numpy(), kept[1])
    emb.zero_grad(), fc.zero_grad()
    loss1.backward(retain_graph=True)  # the saved exp(z) of step 1 is intact: the same gradients as a fresh run
    first = [p.grad.numpy().copy() for p in (*emb.parameters(), *fc.parameters())] + [e1.grad.numpy().copy()]
    loss2 = nn.functional.cross_entropy(fc(emb(_tokens(20))), _tokens(21))
    loss2.backward()  # between the two backwards of step 1's graph
    emb.zero_grad(), fc.zero_grad()
    e1.grad = None
    loss1.backward()  # the second backward through the retained graph reads what the first left
    again = [p.grad.numpy() for p in (*emb.parameters(), *fc.parameters())] + [e1.grad.numpy()]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    emb2, fc2 = _lm()
    nn.functional.cross_entropy(fc2(emb2(x1)), y1).backward()
    for a, p in zip(first, (*emb2.parameters(), *fc2.parameters()), strict=False):
        np.testing.assert_array_equal(a, p.grad.numpy())


@pooled
def test_steady_language_model_steps_make_no_new_large_arrays():
    """After warm-up a step's new memory (tracemalloc's peak over what was held before it; NumPy reports its arrays
    there) stays well below one logits array: the embedding rows, the logits, exp(z) and dlogits are pooled arrays
    (fresh arrays took about two logits' worth a step)."""
    tr.manual_seed(0)
    emb, fc = nn.Embedding(300, 16, dtype=tr.float64), nn.Linear(16, 300, dtype=tr.float64)
    rng = np.random.default_rng(0)
    batches = [(tr.tensor(rng.integers(0, 300, 400)), tr.tensor(rng.integers(0, 300, 400))) for _ in range(6)]
    logits_bytes = 400 * 300 * 8
    tracemalloc.start()
    try:
        peaks = []
        for x, y in batches:
            held = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            logits = fc(emb(x))  # the previous step's logits are still held here
            nn.functional.cross_entropy(logits, y).backward()
            peaks.append(tracemalloc.get_traced_memory()[1] - held)
    finally:
        tracemalloc.stop()
    assert peaks[0] > logits_bytes  # the first step does allocate (the measure sees NumPy's arrays)
    assert max(peaks[3:]) < logits_bytes / 2, peaks


def test_add_into_and_add_at_index_give_the_plain_sums_in_every_layout():
    """B.add_into sums a column-major 2-D view in its own memory order (out.T += values.T): the same numbers as `+=`,
    broadcasting included, and add_at_index still writes single elements and slices of transposed buffers."""
    rng = np.random.default_rng(0)
    base = B.asarray(rng.standard_normal((8, 5)), dtype=B.float64)
    cases = [(lambda b: b.T, (5, 8)), (lambda b: b.T[:, 2:6], (5, 4)), (lambda b: b, (8, 5)),
             (lambda b: b.T, (1, 8)), (lambda b: b[:, 0], (8,))]
    for view, shape in cases:
        buf = B.copy(base)
        want = B.to_host(view(buf)) + rng.standard_normal(shape)
        B.add_into(view(buf), B.asarray(want - B.to_host(view(buf)), dtype=B.float64))
        np.testing.assert_allclose(B.to_host(view(buf)), want, rtol=0, atol=1e-15)
    buf = B.copy(base).T  # (5, 8) column-major: a recurrent state seen batch-major
    B.add_at_index(buf, (slice(None), slice(0, 3)), B.ones((5, 3), B.float64))
    B.add_at_index(buf, (1, 4), B.asarray(2.0, dtype=B.float64))
    want = B.to_host(base).T.copy()
    want[:, :3] += 1
    want[1, 4] += 2
    np.testing.assert_array_equal(B.to_host(buf), want)


@pytest.mark.parametrize("dtype", ("float32", "float64"))
def test_col_sums_and_row_sums_are_the_sums_in_every_layout(dtype):
    """B.col_sums / B.row_sums (one product with a column of ones: the bias gradients and the softmax's row sums) give
    the sums along each axis, for row- and column-major arrays, one row or column, and none."""
    rng = np.random.default_rng(5)
    dt, tol = getattr(B, dtype), {"float32": 2e-6, "float64": 1e-14}[dtype]
    for shape in ((1120, 65), (7, 3), (1, 9), (9, 1), (0, 4), (4, 0)):
        a = rng.standard_normal(shape)
        for arr in (B.asarray(a, dtype=dt), B.asarray(a.T, dtype=dt).T):  # row-major, and column-major seen as `shape`
            cols, rows = B.to_host(B.col_sums(arr)), B.to_host(B.row_sums(arr))
            assert cols.shape == (shape[1],) and rows.shape == (shape[0],)
            assert cols.dtype == rows.dtype == np.dtype(dtype)
            scale = max(1.0, np.abs(a).sum())
            np.testing.assert_allclose(cols, a.sum(axis=0), rtol=0, atol=tol * scale)
            np.testing.assert_allclose(rows, a.sum(axis=1), rtol=0, atol=tol * scale)
