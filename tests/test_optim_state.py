# Optimizer and scheduler state dicts: resuming from a snapshot (deep-copied through host arrays, or through
# tr.save/tr.load) trains bit for bit like never stopping; the layout is torch's and a torch state dict loads;
# a load that fails on any entry changes nothing and names the entry, what was expected and what it got.
import copy
import math

import numpy as np
import pytest
from test_optim import CONFIGS, SHAPES, _grad, _init

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim

CONFIG_IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)]


def _params(values=None):
    return [nn.Parameter(v, dtype=tr.float64) for v in (values if values is not None else _init())]


def _train(params, opt, start, steps, sched=None):
    for k in range(start, start + steps):
        for i, p in enumerate(params):
            p.grad = tr.Tensor(_grad(k, i, p.numpy()), dtype=tr.float64)
        opt.step()
        if sched is not None:
            sched.step()


def _host_copy(obj):
    """A save/load-like deep copy: arrays become fresh NumPy arrays, containers are rebuilt."""
    if isinstance(obj, dict):
        return {k: _host_copy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_host_copy(v) for v in obj)
    if isinstance(obj, np.ndarray):
        return np.array(obj, copy=True)
    return copy.deepcopy(obj)


def _groups(name, kwargs):
    """Two groups, the second with its own lr, so indices and per-group hyperparameters are exercised."""
    params = _params()
    return params, getattr(optim, name)([{"params": params[:2]}, {"params": params[2:], "lr": 0.02}], **kwargs)


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("through", ["host-copy", "checkpoint"])
def test_resume_is_bit_identical(name, kwargs, through, tmp_path):
    """Train 6 steps, snapshot, train 5 more; a fresh optimizer (other lr, other weights) restored from the
    snapshot and trained the same 5 steps ends with the same bits. The snapshot is taken *before* the 5 steps, so
    this also proves state_dict() does not alias the live state."""
    params, opt = _groups(name, kwargs)
    sched = optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
    _train(params, opt, 0, 6, sched)
    snap = {"params": [p.numpy().copy() for p in params], "opt": opt.state_dict(), "sched": sched.state_dict()}
    _train(params, opt, 6, 5, sched)
    if through == "checkpoint":
        tr.save(snap, tmp_path / "ck.npz")
        snap = tr.load(tmp_path / "ck.npz")
    else:
        snap = _host_copy(snap)
    fresh = _params([np.zeros(s) for s in SHAPES])
    opt2 = getattr(optim, name)([{"params": fresh[:2]}, {"params": fresh[2:], "lr": 7.0}], lr=123.0)
    sched2 = optim.lr_scheduler.StepLR(opt2, step_size=4, gamma=0.5)
    for p, v in zip(fresh, snap["params"], strict=True):
        p.array = tr.Tensor(v, dtype=tr.float64).array
    opt2.load_state_dict(snap["opt"])
    sched2.load_state_dict(snap["sched"])
    _train(fresh, opt2, 6, 5, sched2)
    for p, q in zip(params, fresh, strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=CONFIG_IDS)
def test_state_dict_layout_is_torchs_and_a_torch_state_dict_loads(name, kwargs):
    """Same state names per parameter and group keys as torch.optim; then torch's own state dict (tensors turned
    into arrays) loaded into ours continues exactly as torch continues."""
    torch = pytest.importorskip("torch")
    params, opt = _groups(name, kwargs)
    tparams = [torch.tensor(v, requires_grad=True) for v in _init()]
    topt = getattr(torch.optim, name)([{"params": tparams[:2]}, {"params": tparams[2:], "lr": 0.02}], **kwargs)
    for k in range(4):
        for i, (p, tp) in enumerate(zip(params, tparams, strict=True)):
            p.grad = tr.Tensor(_grad(k, i, p.numpy()), dtype=tr.float64)
            tp.grad = torch.tensor(_grad(k, i, tp.detach().numpy()))
        opt.step()
        topt.step()
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert sorted(ours["state"]) == [k for k in sorted(theirs["state"]) if theirs["state"][k]]
    for k, st in ours["state"].items():
        assert set(st) == set(theirs["state"][k])
    for g, tg in zip(ours["param_groups"], theirs["param_groups"], strict=True):
        assert set(g) <= set(tg) and g["params"] == tg["params"]

    def to_numpy(x):
        if isinstance(x, dict):
            return {k: to_numpy(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return type(x)(to_numpy(v) for v in x)
        return x.detach().numpy().copy() if isinstance(x, torch.Tensor) else x

    fresh = _params([tp.detach().numpy().copy() for tp in tparams])
    opt2 = getattr(optim, name)([{"params": fresh[:2]}, {"params": fresh[2:]}])
    opt2.load_state_dict(to_numpy(theirs))
    for k in range(4, 10):
        for i, (p, tp) in enumerate(zip(fresh, tparams, strict=True)):
            p.grad = tr.Tensor(_grad(k, i, p.numpy()), dtype=tr.float64)
            tp.grad = torch.tensor(_grad(k, i, tp.detach().numpy()))
        opt2.step()
        topt.step()
    for p, tp in zip(fresh, tparams, strict=True):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-12)


# ----- all-or-nothing loads
def _adam_state():
    params, opt = _groups("Adam", dict(lr=0.01, amsgrad=True))
    _train(params, opt, 0, 3)
    return params, opt


def _edit(fn):
    """A bad state dict: the good one with `fn` applied to a deep copy."""
    def make(sd):
        sd = _host_copy(sd)
        fn(sd)
        return sd
    return make


def _setitem(path, value):
    def fn(sd):
        d = sd
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value
    return _edit(fn)


def _delitem(path):
    def fn(sd):
        d = sd
        for k in path[:-1]:
            d = d[k]
        del d[path[-1]]
    return _edit(fn)


BAD_LOADS = [
    ("not-a-dict", lambda sd: [sd], r"expected a dict with keys 'param_groups' and 'state', got list"),
    ("extra-top-key", _setitem(["epoch"], 3), r"expected a dict with keys 'param_groups' and 'state', got \["),
    ("group-count", _edit(lambda sd: sd["param_groups"].pop()), r"expected 2 parameter groups, got 1"),
    ("param-count", _edit(lambda sd: sd["param_groups"][1]["params"].append(9)),
     r"param_groups\[1\]: expected 1 parameter indices .*, got 2"),
    ("duplicate-index", _setitem(["param_groups", 1, "params"], [0]), r"param_groups\[1\]\['params'\]: parameter "
                                                                       r"index 0 appears twice"),
    ("float-index", _setitem(["param_groups", 0, "params"], [0.0, 1]), r"expected int parameter indices, got 0.0"),
    ("missing-hyper", _delitem(["param_groups", 1, "betas"]), r"param_groups\[1\]: missing hyperparameter 'betas'"),
    ("nan-lr", _setitem(["param_groups", 0, "lr"], float("nan")), r"param_groups\[0\]: Adam: invalid lr=nan"),
    ("bad-beta", _setitem(["param_groups", 1, "betas"], (0.9, 1.5)), r"Adam: invalid betas\[1\]=1.5; expected "
                                                                     r"a finite number in \[0, 1\)"),
    ("differentiable", _setitem(["param_groups", 0, "differentiable"], True),
     r"Adam: differentiable=True is not supported \(updates run outside the graph\)"),
    ("unknown-param", _setitem(["state", 7], {}), r"state\[7\] is for no parameter; the groups list indices "
                                                  r"\[0, 1, 2\]"),
    ("unknown-state", _setitem(["state", 1, "momentum_buffer"], np.zeros(4)), r"state\[1\]: unknown state "
                                                                              r"'momentum_buffer'"),
    ("missing-state", _delitem(["state", 2, "max_exp_avg_sq"]), r"state\[2\]: missing state 'max_exp_avg_sq'"),
    ("shape", _setitem(["state", 0, "exp_avg"], np.zeros((4, 3))), r"state\[0\]\['exp_avg'\]: expected shape "
                                                                   r"\(3, 4\) \(the parameter's\), got \(4, 3\)"),
    ("dtype", _setitem(["state", 2, "exp_avg_sq"], np.full((2, 2, 2), "x")),
     r"state\[2\]\['exp_avg_sq'\]: expected a numeric array, got dtype <U1"),
    ("not-array", _setitem(["state", 1, "exp_avg"], [0.0] * 4), r"state\[1\]\['exp_avg'\]: expected an array of "
                                                                r"shape \(4,\), got list"),
    ("step-negative", _setitem(["state", 0, "step"], -1), r"state\[0\]\['step'\]: expected a step count \(an int "
                                                          r">= 0\), got -1"),
    ("step-fraction", _setitem(["state", 0, "step"], np.array(2.5)), r"expected a step count .*got 2.5"),
    ("step-inf", _setitem(["state", 1, "step"], math.inf), r"state\[1\]\['step'\]: expected a step count .*got inf"),
    ("bool-array", _setitem(["state", 0, "exp_avg"], np.zeros((3, 4), bool)), r"expected a numeric array, got "
                                                                              r"dtype bool"),
    ("state-not-dict", _setitem(["state", 0], 3), r"state\[0\]: expected a dict, got int"),
]


@pytest.mark.parametrize("name,make_bad,pattern", BAD_LOADS, ids=[b[0] for b in BAD_LOADS])
def test_a_failed_optimizer_load_changes_nothing(name, make_bad, pattern):
    params, opt = _adam_state()
    good = opt.state_dict()
    bad = make_bad(good)
    before_arrays = {id(p): dict(st) for p, st in opt.state.items()}
    with pytest.raises(ValueError, match=r"^Adam.load_state_dict: ") as err:
        opt.load_state_dict(bad)
    assert err.match(pattern)
    after = opt.state_dict()
    assert after["param_groups"] == good["param_groups"]
    for p, st in opt.state.items():  # the very same arrays, with the same values
        assert all(st[k] is before_arrays[id(p)][k] for k in st)
    for k, st in good["state"].items():
        assert set(after["state"][k]) == set(st)
        for name, v in st.items():
            np.testing.assert_array_equal(after["state"][k][name], v)
    opt.load_state_dict(good)  # the good one still loads


def test_adamw_refuses_an_adam_state_and_old_state_dicts_take_default_switches():
    params, opt = _adam_state()
    sd = opt.state_dict()
    adamw = optim.AdamW([{"params": params[:2]}, {"params": params[2:]}])
    with pytest.raises(ValueError, match=r"AdamW.load_state_dict: param_groups\[0\]: AdamW: decoupled_weight_decay "
                                         r"must be True"):
        adamw.load_state_dict(sd)
    for g in sd["param_groups"]:  # a state dict from before these switches existed
        for k in ("maximize", "foreach", "fused", "capturable", "differentiable", "decoupled_weight_decay"):
            del g[k]
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["maximize"] is False and opt.param_groups[1]["decoupled_weight_decay"] is False


def _sched_state():
    opt = optim.SGD([nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))], lr=0.1)
    lin = optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=5)
    exp = optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    seq = optim.lr_scheduler.SequentialLR(opt, [lin, exp], milestones=[5])
    for _ in range(7):
        opt.step()
        seq.step()
    return seq


BAD_SCHEDULER_LOADS = [
    ("not-a-dict", lambda sd: 3, r"'_schedulers' must be a list of 2 state dicts"),
    ("sub-count", _edit(lambda sd: sd["_schedulers"].pop()), r"'_schedulers' must be a list of 2 state dicts"),
    ("missing-key", _delitem(["last_epoch"]), r"SequentialLR.load_state_dict: missing 'last_epoch'"),
    ("unknown-key", _setitem(["epoch"], 3), r"unknown key 'epoch'; a SequentialLR state dict has keys"),
    ("sub-missing", _delitem(["_schedulers", 1, "gamma"]), r"'_schedulers'\[1\] \(ExponentialLR\): missing 'gamma'"),
    ("sub-type", _setitem(["_schedulers", 0, "total_iters"], "5"), r"'_schedulers'\[0\] \(LinearLR\): "
                                                                   r"'total_iters': expected a number, got str"),
    ("last-lr-length", _setitem(["_last_lr"], [0.1, 0.2]), r"'_last_lr': expected a list of 1 items, got 2 items"),
    ("float-epoch", _setitem(["_schedulers", 1, "last_epoch"], 2.5), r"'last_epoch' must be an int, got 2.5"),
]


@pytest.mark.parametrize("name,make_bad,pattern", BAD_SCHEDULER_LOADS, ids=[b[0] for b in BAD_SCHEDULER_LOADS])
def test_a_failed_scheduler_load_changes_nothing(name, make_bad, pattern):
    seq = _sched_state()
    good = seq.state_dict()
    with pytest.raises(ValueError, match=pattern):
        seq.load_state_dict(make_bad(good))
    assert seq.state_dict() == good  # neither the composite nor its first scheduler changed
    seq.load_state_dict(good)


def test_add_param_group_and_zero_grad():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    opt = optim.Adam([a], lr=0.1, betas=(0.8, 0.9))
    with pytest.raises(ValueError, match=r"Adam: invalid lr=-1; expected a finite number >= 0"):
        opt.add_param_group({"params": [b], "lr": -1})
    assert len(opt.param_groups) == 1
    opt.add_param_group({"params": b, "eps": 1e-3})
    assert opt.param_groups[1]["betas"] == (0.8, 0.9) and opt.param_groups[1]["eps"] == 1e-3
    with pytest.raises(ValueError, match=r"a parameter appears twice"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match=r"Adam: a parameter group needs a 'params' entry"):
        opt.add_param_group({"lr": 0.1})
    with pytest.raises(TypeError, match=r"Adam: params must be an ordered collection"):
        optim.Adam({a, b})
    a.grad = tr.Tensor(np.ones(2))
    opt.zero_grad()
    assert a.grad is None


def _sgd():
    return optim.SGD([nn.Parameter(np.ones(2))], lr=0.1, momentum=0.9)


# A loaded value of the right type but one the constructor would refuse is refused too (same rule, same words).
BAD_VALUES = [
    (lambda o: optim.lr_scheduler.StepLR(o, 3), "step_size", 0, r"StepLR.load_state_dict: invalid step_size=0; "
                                                                 r"expected an int >= 1"),
    (lambda o: optim.lr_scheduler.ConstantLR(o), "factor", 2.0, r"invalid factor=2.0"),
    (lambda o: optim.lr_scheduler.LinearLR(o), "total_iters", 2.5, r"total_iters must be an int, got float 2.5"),
    (lambda o: optim.lr_scheduler.CosineAnnealingLR(o, 5), "T_max", 0, r"invalid T_max=0"),
    (lambda o: optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 5), "T_i", 0, r"invalid T_i=0"),
    (lambda o: optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=10), "_anneal_func_type", "exp",
     r"invalid _anneal_func_type='exp'"),
    (lambda o: optim.lr_scheduler.CyclicLR(o, 0.01, 0.1), "mode", "sine", r"invalid mode='sine'"),
    (lambda o: optim.lr_scheduler.CyclicLR(o, 0.01, 0.1), "gamma", -1.0, r"invalid gamma=-1.0"),
    (lambda o: optim.lr_scheduler.ReduceLROnPlateau(o), "patience", -1, r"invalid patience=-1"),
    (lambda o: optim.lr_scheduler.ReduceLROnPlateau(o), "mode", "low", r"ReduceLROnPlateau.load_state_dict: invalid "
                                                                       r"mode='low'; expected one of 'min', 'max'"),
    (lambda o: optim.lr_scheduler.ReduceLROnPlateau(o), "mode_worse", -math.inf, r"'mode_worse' -inf does not "
                                                                                 r"match mode 'min'"),
]


@pytest.mark.parametrize("make,key,value,pattern", BAD_VALUES, ids=[f"{b[1]}={b[2]}" for b in BAD_VALUES])
def test_a_loaded_value_the_constructor_refuses_is_refused(make, key, value, pattern):
    sched = make(_sgd())
    good = sched.state_dict()
    with pytest.raises(ValueError, match=pattern):
        sched.load_state_dict({**good, key: value})
    assert sched.state_dict() == good
