"""Recurrent cells and layers without torch: float64 gradchecks of every fused step and its twin, fused == twin,
layer == loop over its cell, direction/batch_first/hx properties, long sequences, tags, errors."""

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn
from tinygrad_rnn.kernels import fused

F64 = tr.float64
T, N, IN, H = 3, 2, 3, 4


def _t(a, grad=False):
    return tr.Tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, dtype=F64)


def _rand(rng, *shape, grad=True, scale=1.0):
    return _t(rng.standard_normal(shape) * scale, grad)


# ----- step inputs for each fused cell: (function, inputs, kwargs); gx is the whole (T, N, G) projection
def _step_cases(rng, masked=False):
    mask = tr.backend.asarray(np.array([[True], [False]])) if masked else None
    P = 2
    cases = {
        "rnn_tanh": (fused.rnn_step, [_rand(rng, T, N, H), _rand(rng, N, H), _rand(rng, H, H)],
                     {"nonlinearity": "tanh"}),
        "rnn_relu": (fused.rnn_step, [_rand(rng, T, N, H), _rand(rng, N, H), _rand(rng, H, H)],
                     {"nonlinearity": "relu"}),
        "lstm": (fused.lstm_step, [_rand(rng, T, N, 4 * H), _rand(rng, N, 2 * H), _rand(rng, 4 * H, H)], {}),
        "lstm_proj": (fused.lstm_step, [_rand(rng, T, N, 4 * H), _rand(rng, N, P + H), _rand(rng, 4 * H, P),
                                        _rand(rng, P, H)], {}),
        "gru": (fused.gru_step, [_rand(rng, T, N, 3 * H), _rand(rng, N, H), _rand(rng, 3 * H, H),
                                 _rand(rng, 1, H)], {}),
        "gru_nobias": (fused.gru_step, [_rand(rng, T, N, 3 * H), _rand(rng, N, H), _rand(rng, 3 * H, H)], {}),
    }
    out = {k: (fn, args, dict(kw, t=1, mask=mask)) for k, (fn, args, kw) in cases.items()}
    gx, h, w_rz, w_n = _rand(rng, T, N, 3 * H), _rand(rng, N, H), _rand(rng, 2 * H, H), _rand(rng, H, H)
    out["gru_before"] = (lambda gx, h, a, b, **kw: fused.gru_step(gx, h, (a, b), **kw), [gx, h, w_rz, w_n],
                         {"t": 1, "mask": mask})
    return out


CELLS = ("rnn_tanh", "rnn_relu", "lstm", "lstm_proj", "gru", "gru_nobias", "gru_before")


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("primitives", (False, True))
@pytest.mark.parametrize("masked", (False, True))
def test_cell_step_gradcheck(name, primitives, masked):
    fn, args, kw = _step_cases(np.random.default_rng(0), masked)[name]
    with tr.use_primitives(primitives):
        assert tr.gradcheck(lambda *a: fn(*a, **kw), args)


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("masked", (False, True))
def test_fused_step_equals_twin(name, masked):
    fn, args, kw = _step_cases(np.random.default_rng(1), masked)[name]
    g = np.random.default_rng(2)
    results = []
    for primitives in (False, True):
        for a in args:
            a.grad = None
        with tr.use_primitives(primitives):
            out = fn(*args, **kw)
        up = g.standard_normal(out.shape) if not results else results[0][2]
        (out * _t(up)).sum().backward()
        results.append((out.numpy(), [a.grad.numpy() for a in args], up))
    (o1, g1, _), (o2, g2, _) = results
    np.testing.assert_allclose(o1, o2, rtol=1e-12, atol=1e-12)
    for a, b in zip(g1, g2, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_fused_run_is_one_node_with_a_record_per_step_and_twin_shows_gates():
    rng = np.random.default_rng(0)
    lstm = nn.LSTM(IN, H).double()
    x = _rand(rng, T, N, IN)
    out, _ = lstm(x)
    runs = [fn for fn in _graph(out) if fn.steps]
    assert [fn.name for fn in runs] == ["LSTMCellRun"] and not any(fn.name == "LSTMCell" for fn in _graph(out))
    steps = _nodes(out)
    assert [st.tag["step"] for st in steps if st.name == "LSTMCell"] == list(range(T))
    assert all(st.out_shape == (N, 2 * H) and not st.released for st in steps if st.name == "LSTMCell")
    with tr.use_primitives():
        out, _ = lstm(x)
    kinds = {fn.tag.get("kind") for fn in _graph(out) if fn.tag.get("step") is not None}
    assert {"i", "f", "g", "o"} <= kinds


def _graph(out):
    from tinygrad_rnn.autograd import topological_order
    return topological_order(out.grad_fn)


def _nodes(out):
    """The graph's nodes with each Run node replaced by its per-step records (what the visualizer draws)."""
    return [st for fn in _graph(out) for st in (fn.steps or [fn])]


@pytest.mark.parametrize("kind", ("rnn", "lstm", "gru"))
def test_step_tags(kind):
    cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    layer = cls(IN, H, num_layers=2, bidirectional=True).double()
    out, _ = layer(_rand(np.random.default_rng(0), T, N, IN))
    steps = [f for f in _nodes(out) if "step" in f.tag]
    tags = [(f.tag["layer"], f.tag["direction"], f.tag["step"]) for f in steps]
    assert sorted(tags) == [(k, d, t) for k in range(2) for d in range(2) for t in range(T)]
    assert all(f.tag["module"] == type(layer).__name__ and f.tag["kind"] == "cell" for f in steps)
    layer.name = "encoder"
    with tr.tag(model="m"):
        out, _ = layer(_rand(np.random.default_rng(0), T, N, IN))
    cell = [f for f in _nodes(out) if f.tag.get("kind") == "cell"]
    assert {f.tag["module"] for f in cell} == {"encoder"} and {f.tag["model"] for f in cell} == {"m"}


def _layer(kind, **kw):
    if kind == "lstm_proj":
        return nn.LSTM(IN, H, proj_size=2, **kw).double()
    if kind == "gru_before":
        return nn.GRU(IN, H, reset_after=False, **kw).double()
    if kind == "rnn_relu":
        return nn.RNN(IN, H, nonlinearity="relu", **kw).double()
    return {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind](IN, H, **kw).double()


LAYERS = ("rnn", "rnn_relu", "lstm", "lstm_proj", "gru", "gru_before")


def _flat(res):
    out, st = res
    return (out,) + (tuple(st) if isinstance(st, tuple) else (st,))


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("lengths", (None, [3, 1]))
def test_two_layer_bidirectional_gradcheck(kind, lengths):
    rng = np.random.default_rng(3)
    tr.manual_seed(0)
    layer = _layer(kind, num_layers=2, bidirectional=True)
    x = _rand(rng, T, N, IN)
    params = list(layer.parameters())
    assert tr.gradcheck(lambda x, *p: _flat(layer(x, lengths=lengths)), [x] + params, directional=True)


@pytest.mark.parametrize("kind", ("rnn", "lstm", "gru"))
def test_layer_equals_loop_over_cell(kind):
    rng = np.random.default_rng(4)
    layer = _layer(kind)
    cell = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}[kind](IN, H).double()
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = _rand(rng, T, N, IN, grad=False)
    out, st = layer(x)
    state, hs = None, []
    for t in range(T):
        state = cell(x[t], state)
        hs.append(state[0] if kind == "lstm" else state)
    np.testing.assert_allclose(out.numpy(), tr.stack(hs).numpy(), rtol=1e-12, atol=1e-12)
    last = state if kind == "lstm" else (state,)
    for a, b in zip(st if kind == "lstm" else (st,), last, strict=True):
        np.testing.assert_allclose(a.numpy()[0], b.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", LAYERS)
def test_reverse_direction_is_forward_on_flipped_sequence(kind):
    rng = np.random.default_rng(5)
    bi = _layer(kind, bidirectional=True)
    uni = _layer(kind)
    sd = bi.state_dict()
    uni.load_state_dict({k.replace("_reverse", ""): v for k, v in sd.items() if k.endswith("_reverse")})
    x = _rand(rng, T, N, IN, grad=False)
    out, _ = bi(x)
    rev, _ = uni(x[::-1])
    half = out.shape[-1] // 2
    np.testing.assert_allclose(out.numpy()[..., half:], rev.numpy()[::-1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", LAYERS)
def test_hx_none_is_zeros_and_batch_first_is_transpose(kind):
    rng = np.random.default_rng(6)
    layer = _layer(kind, num_layers=2, bidirectional=True)
    x = _rand(rng, T, N, IN, grad=False)
    out, st = layer(x)
    Hout = 2 if kind == "lstm_proj" else H
    z = tr.zeros(4, N, Hout, dtype=F64)
    hx = (z, tr.zeros(4, N, H, dtype=F64)) if kind.startswith("lstm") else z
    out0, st0 = layer(x, hx)
    np.testing.assert_array_equal(out.numpy(), out0.numpy())
    layer.batch_first = True
    outb, stb = layer(x.transpose(0, 1))
    np.testing.assert_allclose(outb.numpy(), out.numpy().transpose(1, 0, 2), rtol=1e-12, atol=1e-12)
    for a, b in zip(_flat((out, st))[1:], _flat((outb, stb))[1:], strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ("rnn", "lstm", "gru"))
def test_thousand_steps_forward_backward(kind):
    rng = np.random.default_rng(7)
    layer = _layer(kind)
    x = _rand(rng, 1000, 2, IN)
    out, _ = layer(x)
    (out * _t(rng.standard_normal(out.shape))).sum().backward()
    assert np.isfinite(x.grad.numpy()).all() and np.isfinite(layer.weight_hh_l0.grad.numpy()).all()


def test_dropout_between_layers_reproducible_and_train_only():
    rng = np.random.default_rng(8)
    layer = nn.GRU(IN, H, num_layers=2, dropout=0.5).double()
    x = _rand(rng, T, N, IN, grad=False)
    tr.manual_seed(1)
    a = layer(x)[0].numpy()
    tr.manual_seed(1)
    b = layer(x)[0].numpy()
    c = layer(x)[0].numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    layer.eval()
    np.testing.assert_array_equal(layer(x)[0].numpy(), layer(x)[0].numpy())


def test_parameter_names_shapes_and_init():
    lstm = nn.LSTM(5, 8, num_layers=2, bidirectional=True, proj_size=3)
    names = [(n, p.shape) for n, p in lstm.named_parameters()]
    assert names[:5] == [("weight_ih_l0", (32, 5)), ("weight_hh_l0", (32, 3)), ("bias_ih_l0", (32,)),
                         ("bias_hh_l0", (32,)), ("weight_hr_l0", (3, 8))]
    assert names[5][0] == "weight_ih_l0_reverse" and names[10] == ("weight_ih_l1", (32, 6))
    bound = 1 / np.sqrt(8)
    assert all(np.abs(p.numpy()).max() <= bound for p in lstm.parameters())
    fb = nn.LSTM(5, 8, forget_bias=1.0)
    assert (fb.bias_ih_l0.numpy()[8:16] == 1.0).all() and (fb.bias_hh_l0.numpy()[8:16] == 0.0).all()
    assert [n for n, _ in nn.GRU(2, 3, bias=False).named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]


@pytest.mark.parametrize("merge_mode", ("concat", "sum", "mul", "ave"))
def test_bidirectional_wrapper_matches_builtin(merge_mode):
    rng = np.random.default_rng(9)
    builtin = nn.LSTM(IN, H, bidirectional=True).double()
    wrap = nn.Bidirectional(nn.LSTM(IN, H).double(), merge_mode)
    sd = builtin.state_dict()
    wrap.forward_layer.load_state_dict({k: v for k, v in sd.items() if not k.endswith("_reverse")})
    wrap.backward_layer.load_state_dict({k[:-8]: v for k, v in sd.items() if k.endswith("_reverse")})
    lengths = [3, 2]
    x = _rand(rng, T, N, IN, grad=False)
    out, (h, c) = builtin(x, lengths=lengths)
    wout, (wh, wc) = wrap(x, lengths=lengths)
    f, r = out.numpy()[..., :H], out.numpy()[..., H:]
    expect = {"concat": out.numpy(), "sum": f + r, "mul": f * r, "ave": (f + r) / 2}[merge_mode]
    np.testing.assert_allclose(wout.numpy(), expect, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(wh.numpy(), h.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(wc.numpy(), c.numpy(), rtol=1e-12, atol=1e-12)


def test_bidirectional_wraps_custom_cell_loop():
    class Loop(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = nn.GRUCell(IN, H).double()

        def reset_parameters(self):
            self.cell.reset_parameters()

        def forward(self, x, h=None):
            outs = []
            for t in range(x.shape[0]):
                h = self.cell(x[t], h)
                outs.append(h)
            return tr.stack(outs), h

    rng = np.random.default_rng(10)
    bi = nn.Bidirectional(Loop())
    x = _rand(rng, T, N, IN)
    out, (hf, hr) = bi(x)
    assert out.shape == (T, N, 2 * H)
    ref = nn.GRU(IN, H).double()
    ref.load_state_dict({k + "_l0": v for k, v in bi.backward_layer.cell.state_dict().items()})
    np.testing.assert_allclose(out.numpy()[..., H:], ref(x[::-1])[0].numpy()[::-1], rtol=1e-12, atol=1e-12)
    out.sum().backward()
    assert x.grad is not None


def test_error_messages():
    with pytest.raises(TypeError, match="hidden_size should be of type int"):
        nn.LSTM(3, 2.5)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.GRU(3, 0)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.RNN(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="unknown nonlinearity 'gelu'"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)
    lstm = nn.LSTM(8, 4, num_layers=2, batch_first=True)
    with pytest.raises(ValueError, match=r"LSTM: expected input of feature size 8, got shape \(5, 3, 7\)"):
        lstm(tr.zeros(5, 3, 7))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D tensor"):
        lstm(tr.zeros(1, 5, 3, 8))
    h0 = tr.zeros(1, 5, 4)
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(2, 5, 4\), got \(1, 5, 4\).*batch_first does not"):
        lstm(tr.zeros(5, 3, 8), (h0, h0))
    with pytest.raises(ValueError, match=r"GRU: expected h_0 of shape \(1, 4\), got \(1, 3, 4\)"):
        nn.GRU(8, 4)(tr.zeros(5, 8), tr.zeros(1, 3, 4))
    with pytest.raises(TypeError, match="expected hx to be a tuple"):
        nn.LSTM(8, 4)(tr.zeros(5, 3, 8), tr.zeros(1, 3, 4))
    with pytest.raises(ValueError, match="RNNCell: expected input of feature size 8"):
        nn.RNNCell(8, 4)(tr.zeros(3, 7))
    with pytest.raises(ValueError, match=r"GRUCell: expected hx of shape \(3, 4\), got \(3, 5\)"):
        nn.GRUCell(8, 4)(tr.zeros(3, 8), tr.zeros(3, 5))
    with pytest.raises(ValueError, match="lengths must be between 0 and T=5"):
        nn.GRU(8, 4)(tr.zeros(5, 2, 8), lengths=[6, 1])
    with pytest.raises(TypeError, match="input has dtype"):
        nn.GRU(8, 4)(tr.zeros(5, 2, 8, dtype=F64))
    with pytest.raises(ValueError, match="merge_mode must be one of"):
        nn.Bidirectional(nn.GRU(8, 4), "max")


@pytest.mark.parametrize("primitives", (False, True))
@pytest.mark.parametrize("biases", ("both", "ih", "hh", "none", "gru"))
def test_input_projection_gradcheck(primitives, biases):
    rng = np.random.default_rng(11)
    x, w, b_ih, b_hh = _rand(rng, 2, 3, 4), _rand(rng, 6, 4), _rand(rng, 6), _rand(rng, 6)
    use_ih, use_hh = biases in ("both", "ih", "gru"), biases in ("both", "hh", "gru")
    rows = 4 if biases == "gru" else None
    with tr.use_primitives(primitives):
        assert tr.gradcheck(lambda x, w, bi, bh: fused.linear(x, w, bi if use_ih else None, bh if use_hh else None,
                                                               hh_rows=rows), [x, w, b_ih, b_hh])


@pytest.mark.parametrize("primitives", (False, True))
@pytest.mark.parametrize("width,directions,masked", [(4, 1, False), (4, 2, True), (2, 2, False), (2, 1, True)])
def test_stack_states_gradcheck(primitives, width, directions, masked):
    rng = np.random.default_rng(12)
    states = [_rand(rng, N, 4) for _ in range(T * directions)]
    valid = None
    if masked:
        valid = tr.backend.asarray(np.array([[True, True], [True, False], [False, False]])[:, :, None])
    def parts(s):  # one list of per-step states per direction, as run_direction returns them without a Run
        return [list(s[d * T:(d + 1) * T]) for d in range(directions)]

    with tr.use_primitives(primitives):
        out = fused.stack_states(parts(states), width, directions, valid)
        assert out.shape == (T, N, directions * width)
        assert tr.gradcheck(lambda *s: fused.stack_states(parts(s), width, directions, valid), states)
