"""Variable-length batches (lengths= and PackedSequence) and truncated BPTT data helpers: a padded batch equals
running each sequence alone; padding gets zero output and exactly zero gradient; the state carries over a detach()."""

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn
from tinygrad_rnn.data import batchify, bptt_batches
from tinygrad_rnn.nn.utils.rnn import (
    last_outputs,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    reverse_padded,
)

F64 = tr.float64
IN, H = 3, 4
LENGTHS = [3, 1, 4, 2]


def _t(a, grad=False):
    return tr.Tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, dtype=F64)


def _layer(kind, **kw):
    cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    return cls(IN, H, num_layers=2, bidirectional=True, **kw).double()


def _states(st):
    return list(st) if isinstance(st, tuple) else [st]


@pytest.mark.parametrize("kind", ("rnn", "lstm", "gru"))
@pytest.mark.parametrize("with_h0", (False, True))
def test_padded_batch_equals_each_sequence_alone(kind, with_h0):
    rng = np.random.default_rng(0)
    layer = _layer(kind)
    T, N = max(LENGTHS), len(LENGTHS)
    x = _t(rng.standard_normal((T, N, IN)) * 3, grad=True)  # padding holds garbage on purpose
    hx = None
    if with_h0:
        hx = _t(rng.standard_normal((4, N, H)), grad=True)
        hx = (hx, _t(rng.standard_normal((4, N, H)), grad=True)) if kind == "lstm" else hx
    out, st = layer(x, hx, lengths=LENGTHS)
    g = rng.standard_normal(out.shape)
    (out * _t(g)).sum().backward()
    for n, L in enumerate(LENGTHS):
        h_n = None if hx is None else (tuple(h[:, n:n + 1] for h in hx) if kind == "lstm" else hx[:, n:n + 1])
        alone_x = _t(x.numpy()[:L, n:n + 1], grad=True)
        a_out, a_st = layer(alone_x, h_n)
        np.testing.assert_allclose(out.numpy()[:L, n], a_out.numpy()[:, 0], rtol=1e-12, atol=1e-12)
        assert (out.numpy()[L:, n] == 0).all()
        for s, a in zip(_states(st), _states(a_st), strict=True):
            np.testing.assert_allclose(s.numpy()[:, n], a.numpy()[:, 0], rtol=1e-12, atol=1e-12)
        (a_out * _t(g[:L, n:n + 1])).sum().backward()
        np.testing.assert_allclose(x.grad.numpy()[:L, n], alone_x.grad.numpy()[:, 0], rtol=1e-10, atol=1e-12)
        assert (x.grad.numpy()[L:, n] == 0).all()
    last = last_outputs(out, LENGTHS, bidirectional=True)
    h_last = _states(st)[0].numpy()
    np.testing.assert_allclose(last.numpy(), np.concatenate([h_last[-2], h_last[-1]], axis=1), rtol=1e-12)


@pytest.mark.parametrize("kind", ("lstm", "gru"))
def test_packed_input_equals_lengths_argument(kind):
    rng = np.random.default_rng(1)
    layer = _layer(kind, batch_first=True)
    T, N = max(LENGTHS), len(LENGTHS)
    x = _t(rng.standard_normal((N, T, IN)))
    out, st = layer(x, lengths=LENGTHS)
    pout, pst = layer(pack_padded_sequence(x, LENGTHS, batch_first=True))
    padded, lens = pad_packed_sequence(pout, batch_first=True)
    np.testing.assert_array_equal(lens.numpy(), LENGTHS)
    np.testing.assert_allclose(padded.numpy(), out.numpy(), rtol=1e-12, atol=1e-12)
    for a, b in zip(_states(st), _states(pst), strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


def test_pack_pad_round_trip_and_gradient():
    rng = np.random.default_rng(2)
    seqs = [_t(rng.standard_normal((L, 2)), grad=True) for L in LENGTHS]
    packed = pack_sequence(seqs)
    assert packed.batch_sizes.numpy().tolist() == [4, 3, 2, 1]
    assert packed.sorted_indices.numpy().tolist() == [2, 0, 3, 1]
    padded, lens = pad_packed_sequence(packed, padding_value=-5.0, total_length=6)
    ref = pad_sequence(seqs, padding_value=-5.0)
    assert padded.shape == (6, 4, 2)
    np.testing.assert_array_equal(padded.numpy()[:4], ref.numpy())
    assert (padded.numpy()[4:] == -5.0).all()
    padded.sum().backward()
    assert all((s.grad.numpy() == 1).all() for s in seqs)
    with pytest.raises(ValueError, match="must be sorted in decreasing order"):
        pack_padded_sequence(padded, LENGTHS, enforce_sorted=True)


def test_reverse_padded():
    x = _t(np.arange(12.0).reshape(4, 3, 1))
    r = reverse_padded(x, [4, 2, 1]).numpy()[..., 0]
    assert r[:, 0].tolist() == [9, 6, 3, 0] and r[:, 1].tolist() == [4, 1, 7, 10] and r[:, 2].tolist() == [2, 5, 8, 11]
    np.testing.assert_array_equal(reverse_padded(x).numpy(), x.numpy()[::-1])


def test_batchify_and_bptt_chunks_continue_each_column():
    data = batchify(list(range(22)), 4)
    assert data.shape == (5, 4) and data.numpy()[:, 1].tolist() == [5, 6, 7, 8, 9]
    chunks = list(bptt_batches(data, 2))
    assert [c[0].shape[0] for c in chunks] == [2, 2]
    x0, y0 = chunks[0]
    x1, _ = chunks[1]
    np.testing.assert_array_equal(y0.numpy()[:-1], x0.numpy()[1:])
    np.testing.assert_array_equal(x1.numpy()[0], y0.numpy()[-1])
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        batchify([1, 2], 0)


@pytest.mark.parametrize("kind", ("lstm", "gru"))
def test_truncated_bptt_cuts_gradient_but_carries_values(kind):
    rng = np.random.default_rng(3)
    layer = {"lstm": nn.LSTM, "gru": nn.GRU}[kind](IN, H).double()
    x = _t(rng.standard_normal((6, 2, IN)), grad=True)
    full_out, _ = layer(x)
    first, second = x[:3], x[3:]
    _, state = layer(first)
    state = tuple(s.detach() for s in state) if kind == "lstm" else state.detach()
    out2, _ = layer(second, state)
    np.testing.assert_allclose(out2.numpy(), full_out.numpy()[3:], rtol=1e-12, atol=1e-12)
    out2.sum().backward()
    g = x.grad.numpy()
    assert (g[:3] == 0).all() and np.abs(g[3:]).sum() > 0
