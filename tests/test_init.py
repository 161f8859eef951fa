"""nn.init against PyTorch: fan rules and gains exactly, distributions statistically on big tensors, orthogonality,
in-place writes under no_grad into Parameters, and the errors. Torch comparisons skip without torch."""

import math

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn
from tinygrad_rnn.nn import init

SHAPES = [(5, 3), (7, 2, 3), (4, 6, 2, 5), (1, 9)]


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_torch(shape):
    torch = pytest.importorskip("torch")
    assert init._calculate_fan_in_and_fan_out(tr.zeros(shape)) == torch.nn.init._calculate_fan_in_and_fan_out(
        torch.zeros(shape))


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",),
                                  ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu",)])
def test_calculate_gain_matches_torch(args):
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args), rel=1e-15)


def test_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(tr.zeros(4))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(tr.zeros(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="unsupported nonlinearity 'gelu'"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "x")
    with pytest.raises(ValueError, match="orthogonal_: only tensors with 2 or more dimensions"):
        init.orthogonal_(tr.zeros(3))


def _stats(fn, shape=(400, 250), dtype=tr.float64):
    tr.manual_seed(0)
    p = nn.Parameter(tr.zeros(shape, dtype=dtype))
    arr = p.array
    assert fn(p) is p  # returns the tensor, filled in place
    assert p.array is arr and p.is_leaf and p.requires_grad and p._version >= 1
    v = p.numpy()
    return v, v.mean(), v.std()


def _uniform_bound(v, bound):
    assert v.min() >= -bound and v.max() <= bound and v.max() > 0.99 * bound
    assert abs(v.std() - bound / math.sqrt(3)) < 0.01 * bound


def test_uniform_normal_constant():
    v, m, _ = _stats(lambda p: init.uniform_(p, -1.0, 3.0))
    assert v.min() >= -1.0 and v.max() < 3.0 and abs(m - 1.0) < 0.02
    _, m, s = _stats(lambda p: init.normal_(p, 0.5, 2.0))
    assert abs(m - 0.5) < 0.02 and abs(s - 2.0) < 0.02
    for fn, val in ((lambda p: init.constant_(p, 0.3), 0.3), (init.zeros_, 0.0), (init.ones_, 1.0)):
        v, _, _ = _stats(fn, (3, 4))
        assert (v == val).all()


def test_xavier():
    fan_in, fan_out = 250, 400
    v, m, _ = _stats(lambda p: init.xavier_uniform_(p, gain=2.0))
    _uniform_bound(v, 2.0 * math.sqrt(6.0 / (fan_in + fan_out)))
    _, m, s = _stats(init.xavier_normal_)
    assert abs(m) < 0.002 and abs(s / math.sqrt(2.0 / (fan_in + fan_out)) - 1) < 0.01


@pytest.mark.parametrize("a,mode,nonlinearity", [(0, "fan_in", "leaky_relu"), (0.2, "fan_out", "leaky_relu"),
                                                 (0, "fan_in", "relu"), (0, "fan_out", "tanh")])
def test_kaiming(a, mode, nonlinearity):
    torch = pytest.importorskip("torch")
    fan = 250 if mode == "fan_in" else 400
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    v, _, _ = _stats(lambda p: init.kaiming_uniform_(p, a=a, mode=mode, nonlinearity=nonlinearity))
    _uniform_bound(v, math.sqrt(3.0) * std)
    _, m, s = _stats(lambda p: init.kaiming_normal_(p, a=a, mode=mode, nonlinearity=nonlinearity))
    assert abs(m) < 0.01 * std * 10 and abs(s / std - 1) < 0.01
    t = torch.zeros(400, 250)  # and PyTorch's draw has the same spread
    torch.nn.init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity)
    assert abs(t.std().item() / s - 1) < 0.02


@pytest.mark.parametrize("shape", [(300, 200), (200, 300), (6, 4, 5), (1, 7)])
def test_orthogonal(shape):
    v, _, _ = _stats(lambda p: init.orthogonal_(p, gain=1.5), shape)
    q = v.reshape(shape[0], -1) / 1.5
    gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-12)
    f32 = tr.zeros(shape)
    init.orthogonal_(f32)
    q = f32.numpy().reshape(shape[0], -1).astype(np.float64)
    gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-5)


def test_init_on_model_parameters_and_recurrent_weights():
    rnn = nn.LSTM(4, 6)
    for name, p in rnn.named_parameters():
        if "weight_hh" in name:
            init.orthogonal_(p)
        elif "weight" in name:
            init.xavier_uniform_(p)
        else:
            init.zeros_(p)
    assert (rnn.bias_ih_l0.numpy() == 0).all()
    out, _ = rnn(tr.randn(3, 2, 4))
    out.sum().backward()  # initialised in place, then trained: no version error
    assert rnn.weight_hh_l0.grad is not None


def test_trunc_normal_and_eye():
    torch = pytest.importorskip("torch")
    v, m, s = _stats(lambda p: init.trunc_normal_(p, mean=0.5, std=2.0, a=-1.0, b=3.0))
    assert v.min() >= -1.0 and v.max() <= 3.0
    torch.manual_seed(0)
    t = torch.nn.init.trunc_normal_(torch.empty(400, 250, dtype=torch.float64), mean=0.5, std=2.0, a=-1.0, b=3.0)
    assert abs(m - t.mean().item()) < 0.02 and abs(s / t.std().item() - 1) < 0.01
    for shape in ((3, 3), (2, 4), (4, 2)):
        e = init.eye_(tr.zeros(shape))
        np.testing.assert_array_equal(e.numpy(), torch.nn.init.eye_(torch.zeros(shape)).numpy())
    with pytest.raises(ValueError, match="eye_: only tensors with 2 dimensions"):
        init.eye_(tr.zeros(2, 2, 2))
    with pytest.raises(ValueError, match="a < b"):
        init.trunc_normal_(tr.zeros(2), a=1.0, b=1.0)
