# Correctness of the hand-written NumPy benchmark reference (benchmarks/reference_numpy.py):
# float64 loss/grads/Adam vs PyTorch (skipped without torch) and a torch-free finite-difference check.
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
from reference_numpy import PARAM_NAMES, NumpyCharLM  # noqa: E402

CELLS = ("lstm", "gru", "rnn")
V, D, H, T, B = 13, 6, 8, 7, 5


def _data(seed=0, T=T, B=B):
    rng = np.random.default_rng(seed)
    return rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))


def _model(cell, dtype=np.float64, seed=1, fuse=False):
    m = NumpyCharLM(cell, V, D, H, seed=seed, dtype=dtype, fuse_embedding=fuse)
    # Scale the recurrent weights up a bit so gates saturate/vary and bugs cannot hide near zero.
    m.params["rnn.weight_hh_l0"] *= 3.0
    m.params["rnn.bias_hh_l0"] += 0.5
    return m


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("shape", [(T, B), (1, 3)])
@pytest.mark.parametrize("fuse", [False, True])
def test_matches_torch_float64(cell, shape, fuse):
    pytest.importorskip("torch")
    from reference_torch import TorchCharLM
    tokens, targets = _data(T=shape[0], B=shape[1])
    m = _model(cell, fuse=fuse)
    tm = TorchCharLM(cell, m.params)
    loss, grads = m.loss_and_grads(tokens, targets)
    tloss, tgrads = tm.loss_and_grads(tokens, targets)
    assert abs(loss - tloss) < 1e-9
    assert set(grads) == set(tgrads) == set(PARAM_NAMES)
    for name in PARAM_NAMES:
        assert grads[name].shape == tgrads[name].shape, name
        np.testing.assert_allclose(grads[name], tgrads[name], rtol=1e-9, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("fuse", [False, True])
def test_adam_steps_match_torch_float64(cell, fuse):
    pytest.importorskip("torch")
    from reference_torch import TorchCharLM
    m = _model(cell, fuse=fuse)
    tm = TorchCharLM(cell, m.params)
    for s in range(4):  # different batches, also exercises buffer reuse
        tokens, targets = _data(seed=10 + s)
        assert abs(m.step(tokens, targets) - tm.step(tokens, targets)) < 1e-9
    tp = tm.params_numpy()
    for name in PARAM_NAMES:
        np.testing.assert_allclose(m.params[name], tp[name], rtol=1e-9, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("fuse", [False, True])
def test_finite_differences_float64(cell, fuse):
    tokens, targets = _data(seed=3)
    m = _model(cell, fuse=fuse)
    _, grads = m.loss_and_grads(tokens, targets)
    grads = {k: v.copy() for k, v in grads.items()}
    rng = np.random.default_rng(7)
    eps = 1e-6
    for name in PARAM_NAMES:
        p = m.params[name]
        if name == "embedding.weight":  # only rows of tokens that occur have non-zero grads
            rows = rng.choice(np.unique(tokens), 2)
            picks = [(r, rng.integers(D)) for r in rows]
        else:
            picks = [tuple(rng.integers(s) for s in p.shape) for _ in range(3)]
        for ix in picks:
            old = p[ix]
            p[ix] = old + eps
            lp, _ = m.loss_and_grads(tokens, targets)
            p[ix] = old - eps
            lm, _ = m.loss_and_grads(tokens, targets)
            p[ix] = old
            num = (lp - lm) / (2 * eps)
            assert abs(num - grads[name][ix]) < 1e-7 + 1e-6 * abs(num), (name, ix, num, grads[name][ix])


@pytest.mark.parametrize("cell", CELLS)
def test_float32_close_to_float64(cell):
    tokens, targets = _data(seed=5)
    m64, m32 = _model(cell), _model(cell, dtype=np.float32, fuse=True)
    l64, g64 = m64.loss_and_grads(tokens, targets)
    l32, g32 = m32.loss_and_grads(tokens, targets)
    assert g32["fc.weight"].dtype == np.float32
    assert abs(l64 - l32) < 1e-5
    for name in PARAM_NAMES:
        np.testing.assert_allclose(g32[name], g64[name], rtol=1e-3, atol=1e-5, err_msg=name)


def test_training_reduces_loss():
    tokens, targets = _data(seed=9)
    m = NumpyCharLM("lstm", V, D, H, seed=0, lr=1e-2)
    first = m.step(tokens, targets)
    for _ in range(60):
        last = m.step(tokens, targets)
    assert last < first - 0.3


def test_bad_cell():
    with pytest.raises(ValueError):
        NumpyCharLM("transformer", V, D, H)


@pytest.mark.parametrize("fuse", [False, True])
def test_add_at_fallback_matches_onehot(monkeypatch, fuse):
    import reference_numpy
    tokens, targets = _data(seed=4)
    _, g_ref = _model("gru", fuse=fuse).loss_and_grads(tokens, targets)
    monkeypatch.setattr(reference_numpy, "ONEHOT_MAX_VOCAB", 0)  # force the np.add.at path
    m = _model("gru", fuse=fuse)
    _, g = m.loss_and_grads(tokens, targets)
    assert m._buf["onehot"] is None
    for name in PARAM_NAMES:
        np.testing.assert_allclose(g[name], g_ref[name], rtol=1e-12, atol=1e-13, err_msg=name)
