# Optimizers and gradient clipping: 20 float64 steps against torch.optim (skipped without torch) for every optimizer
# and its switches, param groups, zero_grad, closures, the version bump of step(). Schedulers: test_lr_scheduler.py.
import math

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim

SHAPES = [(3, 4), (4,), (2, 2, 2)]

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.003, alpha=0.9, weight_decay=0.05, momentum=0.7)),
    ("RMSprop", dict(lr=0.003, centered=True, momentum=0.5)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.2, eps=1e-6)),
    # torch's keyword switches: maximize ascends; foreach/fused pick torch kernels and change nothing here
    ("SGD", dict(lr=0.01, momentum=0.9, weight_decay=0.01, maximize=True, foreach=False)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True, fused=None)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01, maximize=True, foreach=True, capturable=False)),
    ("RMSprop", dict(lr=0.003, centered=True, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.05, lr_decay=0.1, maximize=True, foreach=None)),
]


def _init(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in SHAPES]


def _grad(k, i, value):
    """A deterministic gradient that depends on the current parameter values (so any divergence grows)."""
    return np.sin(3.0 * value) + 0.5 * np.cos(k + i + 1.0) * value ** 2


def _run_ours(name, kwargs, steps):
    params = [nn.Parameter(v, dtype=tr.float64) for v in _init()]
    opt = getattr(optim, name)(params, **kwargs)
    for k in range(steps):
        for i, p in enumerate(params):
            p.grad = tr.Tensor(_grad(k, i, p.numpy()), dtype=tr.float64)
        opt.step()
    return params, opt


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_matches_torch_for_20_steps_float64(name, kwargs):
    torch = pytest.importorskip("torch")
    params, _ = _run_ours(name, kwargs, 20)
    tparams = [torch.tensor(v, requires_grad=True) for v in _init()]
    topt = getattr(torch.optim, name)(tparams, **kwargs)
    for k in range(20):
        for i, p in enumerate(tparams):
            p.grad = torch.tensor(_grad(k, i, p.detach().numpy()))
        topt.step()
    for p, tp in zip(params, tparams, strict=True):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_param_groups_and_missing_grads():
    a, b, c = (nn.Parameter(np.ones(3), dtype=tr.float64) for _ in range(3))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}, {"params": [c]}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5, 0.1] and opt.param_groups[1]["momentum"] == 0.9
    a.grad = tr.Tensor(np.ones(3), dtype=tr.float64)
    b.grad = tr.Tensor(np.ones(3), dtype=tr.float64)
    opt.step()
    np.testing.assert_allclose(a.numpy(), 0.9)
    np.testing.assert_allclose(b.numpy(), 0.5)
    np.testing.assert_allclose(c.numpy(), 1.0)  # no gradient: untouched, no state
    assert c not in opt.state and a in opt.state
    opt.zero_grad(set_to_none=False)
    assert np.all(a.grad.numpy() == 0) and c.grad is None
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1], [2]] and sorted(sd["state"]) == [0, 1]
    assert isinstance(sd["state"][0]["momentum_buffer"], np.ndarray)


def test_closure_and_float32_updates_stay_float32():
    w = nn.Parameter(np.array([1.0, -2.0], dtype=np.float32))
    opt = optim.Adam([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 5.0 and w.dtype == tr.float32
    assert opt.state[w]["exp_avg"].dtype == tr.float32


# ----- gradient clipping
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    grads = [np.random.default_rng(i).standard_normal(s) for i, s in enumerate(SHAPES)]
    params = [nn.Parameter(np.zeros(s), dtype=tr.float64) for s in SHAPES]
    tparams = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in SHAPES]
    for p, tp, g in zip(params, tparams, grads, strict=True):
        p.grad, tp.grad = tr.Tensor(g, dtype=tr.float64), torch.tensor(g)
    extra = nn.Parameter(np.zeros(2))  # no gradient: skipped
    total = nn.utils.clip_grad_norm_(params + [extra], max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type)
    assert isinstance(total, tr.Tensor) and total.shape == ()
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-12)
    for p, tp in zip(params, tparams, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_and_value_semantics():
    p = nn.Parameter(np.zeros(4), dtype=tr.float64)
    p.grad = tr.Tensor([3.0, 4.0, 0.0, 0.0], dtype=tr.float64)
    total = nn.utils.clip_grad_norm_(p, 1.0)
    assert total.item() == 5.0
    np.testing.assert_allclose(p.grad.numpy(), np.array([3.0, 4.0, 0, 0]) / (5.0 + 1e-6), rtol=1e-15)
    assert nn.utils.clip_grad_norm_([nn.Parameter(np.zeros(2))], 1.0).item() == 0.0  # no grads at all
    p.grad = tr.Tensor([3.0, -4.0, 0.5, np.inf], dtype=tr.float64)
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: the total norm of order 2.0 of the gradients is "
                                           r"non-finite"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    nn.utils.clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), [1.0, -1.0, 0.5, 1.0])
    with pytest.raises(ValueError, match=r"clip_grad_norm_: norm_type must be positive or inf, got -1.0"):
        nn.utils.clip_grad_norm_(p, 1.0, norm_type=-1)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_a_step_before_a_pending_backward_raises_as_in_torch(name):
    """step() changes parameters in place, so a backward that saved one (x @ w saves w for x's gradient) must
    raise, as torch's does, instead of using the updated weights."""
    torch = pytest.importorskip("torch")
    for lib in (tr, torch):
        if lib is tr:
            w, x = nn.Parameter(np.ones((3, 2))), tr.Tensor(np.ones((4, 3)), requires_grad=True)
        else:
            w, x = torch.ones((3, 2), requires_grad=True), torch.ones((4, 3), requires_grad=True)
        y = (x @ w).tanh().sum()
        opt = getattr(lib.optim, name)([w], lr=0.1)
        w.grad = lib.ones((3, 2)) if lib is torch else tr.Tensor(np.ones((3, 2)))
        opt.step()
        with pytest.raises(RuntimeError, match=r"modified by an inplace operation"):
            y.backward()
        (x @ w).tanh().sum().backward()  # a graph built after the step is fine


def test_adagrad_state_from_the_constructor_as_torch():
    """torch.optim.Adagrad makes every parameter's state at construction, always from the constructor's
    initial_accumulator_value (a group's own value is not used); the same numbers and state entries here."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tr, torch):
        ps = [nn.Parameter(v, dtype=tr.float64) for v in _init()] if lib is tr else \
            [torch.tensor(v, requires_grad=True) for v in _init()]
        opt = lib.optim.Adagrad([{"params": ps[:1]}, {"params": ps[1:2], "initial_accumulator_value": 0.7}],
                                lr=0.05, initial_accumulator_value=0.2)
        assert sorted(opt.state_dict()["state"]) == [0, 1]
        opt.add_param_group({"params": ps[2:], "initial_accumulator_value": 0.9})
        for k in range(5):
            for i, p in enumerate(ps):
                v = p.numpy() if lib is tr else p.detach().numpy()
                p.grad = tr.Tensor(_grad(k, i, v), dtype=tr.float64) if lib is tr else torch.tensor(_grad(k, i, v))
            opt.step()
        results.append([p.numpy() if lib is tr else p.detach().numpy() for p in ps])
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
