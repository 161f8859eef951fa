"""PyTorch parity of nn.RNN / nn.LSTM / nn.GRU and the cells: a torch state_dict loads and gives the same outputs,
final states and gradients (parameters, input, h_0, c_0) over the option grid. Skipped without torch."""

import itertools

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn

torch = pytest.importorskip("torch")

IN, H, T, N, P = 3, 4, 4, 2, 2
KINDS = ("rnn_tanh", "rnn_relu", "lstm", "gru")


def _build(kind, dtype, **kw):
    if kind.startswith("rnn"):
        nl = kind.split("_")[1]
        return nn.RNN(IN, H, nonlinearity=nl, **kw), torch.nn.RNN(IN, H, nonlinearity=nl, **kw)
    if kind == "lstm":
        return nn.LSTM(IN, H, **kw), torch.nn.LSTM(IN, H, **kw)
    return nn.GRU(IN, H, **kw), torch.nn.GRU(IN, H, **kw)


def _tdtype(dtype):
    return torch.float64 if dtype == tr.float64 else torch.float32


def _run_pair(kind, dtype, bias=True, batch_first=False, bidirectional=False, num_layers=1, with_h0=False,
              unbatched=False, proj_size=0, seed=0):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    kw = dict(bias=bias, batch_first=batch_first, bidirectional=bidirectional, num_layers=num_layers)
    if proj_size:
        kw["proj_size"] = proj_size
    ours, ref = _build(kind, dtype, **kw)
    ref = ref.to(_tdtype(dtype))
    ours.to(dtype)
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    npdt = np.float64 if dtype == tr.float64 else np.float32
    D = 2 if bidirectional else 1
    Hout = proj_size or H
    xshape = (T, IN) if unbatched else ((N, T, IN) if batch_first else (T, N, IN))
    x = rng.standard_normal(xshape).astype(npdt)
    sshape = (lambda w: (num_layers * D, w)) if unbatched else (lambda w: (num_layers * D, N, w))
    states = []
    if with_h0:
        states.append(rng.standard_normal(sshape(Hout)).astype(npdt))
        if kind == "lstm":
            states.append(rng.standard_normal(sshape(H)).astype(npdt))

    tx = tr.Tensor(x, requires_grad=True, dtype=dtype)
    ts = [tr.Tensor(s, requires_grad=True, dtype=dtype) for s in states]
    rx = torch.tensor(x, requires_grad=True)
    rs = [torch.tensor(s, requires_grad=True) for s in states]
    hx = (tuple(ts) if kind == "lstm" else ts[0]) if ts else None
    rhx = (tuple(rs) if kind == "lstm" else rs[0]) if rs else None
    out, st = ours(tx, hx)
    rout, rst = ref(rx, rhx)
    outs = [out] + (list(st) if kind == "lstm" else [st])
    routs = [rout] + (list(rst) if kind == "lstm" else [rst])
    grads = [rng.standard_normal(o.shape).astype(npdt) for o in routs]
    loss = None
    for o, g in zip(outs, grads, strict=True):
        term = (o * tr.Tensor(g, dtype=dtype)).sum()
        loss = term if loss is None else loss + term
    loss.backward()
    sum((o * torch.tensor(g)).sum() for o, g in zip(routs, grads, strict=True)).backward()
    pairs = [(f"out{i}", o.numpy(), r.detach().numpy(), False) for i, (o, r) in enumerate(zip(outs, routs,
                                                                                               strict=True))]
    pairs.append(("x.grad", tx.grad.numpy(), rx.grad.numpy(), True))
    pairs += [(f"h0.grad{i}", a.grad.numpy(), b.grad.numpy(), True) for i, (a, b) in enumerate(zip(ts, rs,
                                                                                                    strict=True))]
    tparams = dict(ref.named_parameters())
    names = [n for n, _ in ours.named_parameters()]
    assert names == list(tparams)
    pairs += [(n, p.grad.numpy(), tparams[n].grad.numpy(), True) for n, p in ours.named_parameters()]
    return pairs


def _check(pairs, dtype):
    for name, a, b, is_grad in pairs:
        assert a.shape == b.shape, name
        if dtype == tr.float64:
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=name)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 if is_grad else 1e-5, err_msg=name)


GRID = list(itertools.product(KINDS, (True, False), (False, True), (False, True), (1, 2), (False, True),
                              (False, True)))


@pytest.mark.parametrize("kind,bias,batch_first,bidirectional,num_layers,with_h0,unbatched", GRID)
def test_layer_matches_torch_float64(kind, bias, batch_first, bidirectional, num_layers, with_h0, unbatched):
    _check(_run_pair(kind, tr.float64, bias, batch_first, bidirectional, num_layers, with_h0, unbatched), tr.float64)


@pytest.mark.parametrize("bidirectional,num_layers,with_h0,unbatched,batch_first",
                         list(itertools.product((False, True), (1, 2), (False, True), (False, True), (False, True))))
def test_lstm_proj_matches_torch_float64(bidirectional, num_layers, with_h0, unbatched, batch_first):
    _check(_run_pair("lstm", tr.float64, True, batch_first, bidirectional, num_layers, with_h0, unbatched,
                     proj_size=P), tr.float64)


@pytest.mark.parametrize("kind", KINDS + ("lstm_proj",))
@pytest.mark.parametrize("bidirectional", (False, True))
def test_layer_matches_torch_float32(kind, bidirectional):
    proj = P if kind == "lstm_proj" else 0
    kind = "lstm" if proj else kind
    _check(_run_pair(kind, tr.float32, True, False, bidirectional, 2, True, False, proj_size=proj), tr.float32)


@pytest.mark.parametrize("kind", KINDS + ("lstm_proj",))
def test_primitive_twins_match_torch_float64(kind):
    proj = P if kind == "lstm_proj" else 0
    kind = "lstm" if proj else kind
    with tr.use_primitives():
        pairs = _run_pair(kind, tr.float64, True, True, True, 2, True, False, proj_size=proj)
    _check(pairs, tr.float64)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bias", (True, False))
@pytest.mark.parametrize("unbatched", (False, True))
@pytest.mark.parametrize("with_h0", (False, True))
def test_cells_match_torch_float64(kind, bias, unbatched, with_h0):
    rng = np.random.default_rng(1)
    if kind.startswith("rnn"):
        nl = kind.split("_")[1]
        ours, ref = nn.RNNCell(IN, H, bias, nl), torch.nn.RNNCell(IN, H, bias, nl)
    elif kind == "lstm":
        ours, ref = nn.LSTMCell(IN, H, bias), torch.nn.LSTMCell(IN, H, bias)
    else:
        ours, ref = nn.GRUCell(IN, H, bias), torch.nn.GRUCell(IN, H, bias)
    ref = ref.double()
    ours.double().load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = rng.standard_normal((IN,) if unbatched else (N, IN))
    sshape = (H,) if unbatched else (N, H)
    states = [rng.standard_normal(sshape) for _ in range(2 if kind == "lstm" else 1)] if with_h0 else []
    tx, rx = tr.Tensor(x, requires_grad=True, dtype=tr.float64), torch.tensor(x, requires_grad=True)
    ts = [tr.Tensor(s, requires_grad=True, dtype=tr.float64) for s in states]
    rs = [torch.tensor(s, requires_grad=True) for s in states]
    hx = (tuple(ts) if kind == "lstm" else ts[0]) if ts else None
    rhx = (tuple(rs) if kind == "lstm" else rs[0]) if rs else None
    out, rout = ours(tx, hx), ref(rx, rhx)
    outs, routs = (list(out), list(rout)) if kind == "lstm" else ([out], [rout])
    grads = [rng.standard_normal(tuple(o.shape)) for o in routs]
    sum(((o * tr.Tensor(g, dtype=tr.float64)).sum() for o, g in zip(outs, grads, strict=True)),
        tr.Tensor(0.0, dtype=tr.float64)).backward()
    sum((o * torch.tensor(g)).sum() for o, g in zip(routs, grads, strict=True)).backward()
    for o, r in zip(outs, routs, strict=True):
        np.testing.assert_allclose(o.numpy(), r.detach().numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(tx.grad.numpy(), rx.grad.numpy(), rtol=1e-9, atol=1e-9)
    for a, b in zip(ts, rs, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-9)
    tp = dict(ref.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(tp)
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[n].grad.numpy(), rtol=1e-9, atol=1e-9, err_msg=n)


@pytest.mark.parametrize("kind", ("lstm", "gru", "rnn_tanh"))
@pytest.mark.parametrize("enforce_sorted", (False, True))
def test_packed_sequence_matches_torch(kind, enforce_sorted):
    rng = np.random.default_rng(2)
    lengths = [4, 3, 1] if enforce_sorted else [2, 4, 1]
    ours, ref = _build(kind, tr.float64, bidirectional=True, num_layers=2)
    ref = ref.double()
    ours.double().load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = rng.standard_normal((4, 3, IN))
    tx, rx = tr.Tensor(x, requires_grad=True, dtype=tr.float64), torch.tensor(x, requires_grad=True)
    pk = nn.utils.rnn.pack_padded_sequence(tx, lengths, enforce_sorted=enforce_sorted)
    rpk = torch.nn.utils.rnn.pack_padded_sequence(rx, torch.tensor(lengths), enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(pk.batch_sizes.numpy(), rpk.batch_sizes.numpy())
    np.testing.assert_allclose(pk.data.numpy(), rpk.data.detach().numpy())
    out, st = ours(pk)
    rout, rst = ref(rpk)
    np.testing.assert_allclose(out.data.numpy(), rout.data.detach().numpy(), rtol=1e-9, atol=1e-9)
    padded, lens = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
    rpadded, rlens = torch.nn.utils.rnn.pad_packed_sequence(rout, batch_first=True)
    np.testing.assert_array_equal(lens.numpy(), rlens.numpy())
    np.testing.assert_allclose(padded.numpy(), rpadded.detach().numpy(), rtol=1e-9, atol=1e-9)
    sts, rsts = (list(st), list(rst)) if kind == "lstm" else ([st], [rst])
    gp = rng.standard_normal(tuple(rpadded.shape))
    gs = [rng.standard_normal(tuple(r.shape)) for r in rsts]
    loss = (padded * tr.Tensor(gp, dtype=tr.float64)).sum()
    for s, g in zip(sts, gs, strict=True):
        loss = loss + (s * tr.Tensor(g, dtype=tr.float64)).sum()
    loss.backward()
    (rpadded * torch.tensor(gp)).sum().add(sum((r * torch.tensor(g)).sum() for r, g in zip(rsts, gs,
                                                                                          strict=True))).backward()
    for s, r in zip(sts, rsts, strict=True):
        np.testing.assert_allclose(s.numpy(), r.detach().numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(tx.grad.numpy(), rx.grad.numpy(), rtol=1e-9, atol=1e-9)
    tp = dict(ref.named_parameters())
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[n].grad.numpy(), rtol=1e-9, atol=1e-9, err_msg=n)


def test_pad_sequence_matches_torch():
    rng = np.random.default_rng(3)
    seqs = [rng.standard_normal((L, 2)) for L in (3, 5, 1)]
    for bf in (False, True):
        ours = nn.utils.rnn.pad_sequence([tr.Tensor(s, dtype=tr.float64) for s in seqs], batch_first=bf,
                                         padding_value=-1.0)
        ref = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first=bf, padding_value=-1.0)
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
