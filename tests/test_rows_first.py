# A linear map that reads an embedding's output takes its gradients through the table's rows (grads.rows_first):
# the same gradients as the plain products over every row, in every case the path is taken or refused.
import contextlib

import numpy as np
import pytest

import tinygrad_rnn as tr
import tinygrad_rnn.nn.functional as F
from tinygrad_rnn import grads, nn

pytestmark = pytest.mark.no_strict  # the path runs on NumPy only (elsewhere the plain products)


@pytest.fixture
def table_grads(monkeypatch):
    """Counts the table gradients made through the rows (RowsGrad.table_grad calls)."""
    calls = []
    real = grads.RowsGrad.table_grad
    monkeypatch.setattr(grads.RowsGrad, "table_grad", lambda self: calls.append(1) or real(self))
    return calls


def _both(run, monkeypatch):
    """run() with rows first, then with the plain products: (its results each way)."""
    on = run()
    monkeypatch.setattr(grads, "ROWS_FIRST", False)
    off = run()
    monkeypatch.setattr(grads, "ROWS_FIRST", True)
    return on, off


def _assert_same(on, off):
    assert len(on) == len(off)
    for a, b in zip(on, off, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def _tokens(T=12, N=10, V=9, seed=1):
    return tr.tensor(np.random.default_rng(seed).integers(0, V, (T, N)))


def _lm(cell, bidirectional=False, padding_idx=None, V=9, E=16, H=6, use=None, batch_first=False):
    """Embedding -> recurrent layer -> Linear -> cross-entropy backward in float64; the gradients of every parameter
    (and whatever `use` returns from the embedding's output e, added to the loss or read after backward)."""
    def run():
        tr.manual_seed(0)
        emb = nn.Embedding(V, E, padding_idx=padding_idx).double()
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell](E, H, bidirectional=bidirectional,
                                                                    batch_first=batch_first).double()
        fc = nn.Linear(H * (2 if bidirectional else 1), V).double()
        x = _tokens(V=V, N=7 if batch_first else 10)  # (T, N), read as (N, T) with batch_first: T != N
        e = emb(x)
        extra = use(e) if use else None
        out, _ = rnn(e)
        loss = F.cross_entropy(fc(out).reshape(-1, V), x.reshape(-1))
        if extra is not None and extra.ndim == 0:
            loss = loss + extra
        loss.backward()
        got = [p.grad.numpy().copy() for m in (emb, rnn, fc) for p in m.parameters()]
        return got + ([e.grad.numpy().copy()] if e.grad is not None else [])
    return run


@pytest.mark.parametrize("cell", ("lstm", "gru", "rnn"))
@pytest.mark.parametrize("bidirectional", (False, True))
def test_recurrent_layer_on_an_embedding_gets_the_plain_gradients(cell, bidirectional, monkeypatch, table_grads):
    on, off = _both(_lm(cell, bidirectional), monkeypatch)
    assert len(table_grads) == (2 if bidirectional else 1)  # each direction's projection went through the rows
    _assert_same(on, off)


@pytest.mark.parametrize("cell", ("lstm", "rnn"))
def test_batch_first_layer_on_an_embedding_reads_it_directly(cell, monkeypatch, table_grads):
    """batch_first: the first layer's projection reads the (N, T, E) embedding output itself (no transposed copy
    in between), so its gradients go through the table's rows too, and equal the plain ones."""
    on, off = _both(_lm(cell, bidirectional=True, batch_first=True), monkeypatch)
    assert len(table_grads) == 2
    _assert_same(on, off)
    on, off = _both(_lm(cell, batch_first=True, use=lambda e: e.retain_grad()), monkeypatch)  # e.grad (N, T, E)
    _assert_same(on, off)


def test_padding_row_gets_no_gradient_either_way(monkeypatch, table_grads):
    on, off = _both(_lm("gru", padding_idx=2), monkeypatch)
    assert table_grads and not on[0][2].any()
    _assert_same(on, off)


def test_linear_layer_on_an_embedding_gets_the_plain_gradients(monkeypatch, table_grads):
    def run():
        tr.manual_seed(0)
        emb, fc = nn.Embedding(5, 24).double(), nn.Linear(24, 7).double()
        x = _tokens(8, 9, V=5)
        F.cross_entropy(fc(emb(x)).reshape(-1, 7), tr.tensor(x.numpy().reshape(-1) % 7)).backward()
        return [p.grad.numpy().copy() for m in (emb, fc) for p in m.parameters()]
    on, off = _both(run, monkeypatch)
    assert table_grads
    _assert_same(on, off)


def test_retained_or_shared_embedding_output_gets_its_dense_gradient(monkeypatch, table_grads):
    """retain_grad() on the embedding's output, or a second reader of it: the dense gradient g @ w is made (and
    matches the plain path's), the table's gradient comes from it."""
    on, off = _both(_lm("lstm", use=lambda e: e.retain_grad()), monkeypatch)
    assert len(on) == 8 and not table_grads  # 7 parameters' gradients and e.grad
    _assert_same(on, off)
    on, off = _both(_lm("lstm", use=lambda e: (e * e).sum() * 0.01), monkeypatch)
    assert not table_grads
    _assert_same(on, off)


def test_changed_embedding_output_takes_the_plain_path(monkeypatch, table_grads):
    """An embedding output changed in place (rows of one token may then differ) is not taken for table rows."""
    def bump(e):
        with tr.no_grad():
            e[0, 0] += 1.0
    on, off = _both(_lm("gru", use=bump), monkeypatch)
    assert not table_grads
    _assert_same(on, off)


def test_non_finite_table_row_takes_the_plain_path(monkeypatch, table_grads):
    def run():
        tr.manual_seed(0)
        emb, fc = nn.Embedding(5, 24).double(), nn.Linear(24, 3).double()
        with tr.no_grad():
            emb.weight[1, 0] = float("inf")
        x = _tokens(8, 9, V=5)
        (fc(emb(x)) * 0.0).sum().backward()  # 0 * inf: NaN where the plain products make it, and only there
        return [p.grad.numpy().copy() for m in (emb, fc) for p in m.parameters()]
    with np.errstate(invalid="ignore"):
        on, off = _both(run, monkeypatch)
    assert not table_grads
    for a, b in zip(on, off, strict=True):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))


def test_large_table_or_few_rows_take_the_plain_path(monkeypatch, table_grads):
    """The cost rule: rows first only when the table is small beside the rows read (no one-hot product of a large
    table, no product over the table that costs more than the plain ones)."""
    def run(V, T):
        tr.manual_seed(0)
        emb, fc = nn.Embedding(V, 8).double(), nn.Linear(8, 6).double()
        fc(emb(_tokens(T, 4, V=V))).sum().backward()
    run(2000, 300)
    run(9, 1)
    assert not table_grads
    run(9, 40)
    assert table_grads


def test_gradcheck_through_the_table_rows(table_grads):
    """float64 finite differences of the table, the weight and the bias, with the path taken."""
    idx = _tokens(10, 6, V=3)
    table = tr.Tensor(np.random.default_rng(2).standard_normal((3, 4)), requires_grad=True, dtype=tr.float64)
    w = tr.Tensor(np.random.default_rng(3).standard_normal((5, 4)), requires_grad=True, dtype=tr.float64)
    b = tr.Tensor(np.random.default_rng(4).standard_normal(5), requires_grad=True, dtype=tr.float64)
    assert tr.gradcheck(lambda t, w, b: F.linear(F.embedding(idx, t), w, b), [table, w, b])
    assert table_grads


def test_norm_recording_and_anomaly_modes_get_dense_gradients_with_the_same_values(table_grads):
    """record_grad_norms() and detect_anomaly() read every gradient densely: same table gradient as rows first."""
    def table_grad(ctx):
        tr.manual_seed(0)
        emb, lstm, fc = nn.Embedding(9, 16).double(), nn.LSTM(16, 6).double(), nn.Linear(6, 9).double()
        x = _tokens()
        with ctx:
            out, _ = lstm(emb(x))
            F.cross_entropy(fc(out).reshape(-1, 9), x.reshape(-1)).backward()
        return emb.weight.grad.numpy()
    plain = table_grad(contextlib.nullcontext())
    assert table_grads
    del table_grads[:]
    for ctx in (tr.record_grad_norms(), tr.detect_anomaly()):
        np.testing.assert_allclose(table_grad(ctx), plain, rtol=1e-12, atol=1e-13)
    assert not table_grads
