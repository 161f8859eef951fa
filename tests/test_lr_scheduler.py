# LR schedulers against torch.optim.lr_scheduler (skipped without torch): every scheduler in several configs, over
# 100 steps, learning rates and cycled momentum/betas compared at every step on two parameter groups; resuming at
# last_epoch, step(epoch) closed forms, and state dicts that go through tr.save/tr.load and resume exactly.
import contextlib
import math
import warnings
from collections import Counter

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim

STEPS = 100


def _opt(lib, kind):
    """Two parameter groups (lr 0.1 and 0.3) of the library `lib` (tinygrad_rnn or torch)."""
    if lib is tr:
        a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    else:
        a, b = lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.3}]
    if kind == "sgd":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    if kind == "adam":
        return lib.optim.Adam(groups, lr=0.1, betas=(0.9, 0.99))
    return lib.optim.Adagrad(groups, lr=0.1)


def _seq(m, o):
    return m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.ExponentialLR(o, gamma=0.9)], [5])


def _seq3(m, o):
    return m.SequentialLR(o, [m.ConstantLR(o, factor=0.5, total_iters=3), m.CosineAnnealingLR(o, T_max=20),
                              m.StepLR(o, step_size=5, gamma=0.5)], milestones=[10, 40])


def _seq_lambda(m, o):
    return m.SequentialLR(o, [m.LambdaLR(o, lambda e: (e + 1) / 10), m.MultiStepLR(o, [30, 60], gamma=0.2)], [10])


def _chain(m, o):
    return m.ChainedScheduler([m.ConstantLR(o, factor=0.5, total_iters=4), m.ExponentialLR(o, gamma=0.9)])


def _chain_opt(m, o):
    return m.ChainedScheduler([m.StepLR(o, 10, 0.5), m.LinearLR(o, 0.2, 1.0, 20)], optimizer=o)


class Warmup:
    """A callable object: its attributes are saved by LambdaLR.state_dict (a lambda is not)."""

    def __init__(self, n):
        self.n = n

    def __call__(self, e):
        return min(1.0, (e + 1) / self.n)


# (id, optimizer kind, factory(lr_scheduler module, optimizer))
CASES = [
    ("LambdaLR", "sgd", lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e)),
    ("LambdaLR-list", "adam", lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), Warmup(7)])),
    ("MultiplicativeLR", "sgd", lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97 if e % 2 else 0.99)),
    ("StepLR", "sgd", lambda m, o: m.StepLR(o, step_size=7, gamma=0.5)),
    ("StepLR-1", "adam", lambda m, o: m.StepLR(o, step_size=1, gamma=0.9)),
    ("MultiStepLR", "sgd", lambda m, o: m.MultiStepLR(o, milestones=[5, 20, 20, 60], gamma=0.3)),
    ("ConstantLR", "sgd", lambda m, o: m.ConstantLR(o)),
    ("ConstantLR-10", "adam", lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=10)),
    ("LinearLR", "sgd", lambda m, o: m.LinearLR(o)),
    ("LinearLR-30", "sgd", lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=30)),
    ("LinearLR-down", "adam", lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=50)),
    ("ExponentialLR", "sgd", lambda m, o: m.ExponentialLR(o, gamma=0.97)),
    ("PolynomialLR", "sgd", lambda m, o: m.PolynomialLR(o)),
    ("PolynomialLR-40", "adam", lambda m, o: m.PolynomialLR(o, total_iters=40, power=2.0)),
    ("CosineAnnealingLR", "sgd", lambda m, o: m.CosineAnnealingLR(o, T_max=30)),
    ("CosineAnnealingLR-eta", "adam", lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.01)),
    ("CosineAnnealingWarmRestarts", "sgd", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=10)),
    ("CosineAnnealingWarmRestarts-mult", "adam",
     lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.001)),
    ("CyclicLR-triangular", "sgd", lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=10)),
    ("CyclicLR-triangular2", "adam",
     lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=[0.1, 0.5], step_size_up=5, step_size_down=15,
                             mode="triangular2", base_momentum=0.7, max_momentum=[0.9, 0.95])),
    ("CyclicLR-exp-range", "sgd",
     lambda m, o: m.CyclicLR(o, base_lr=0.001, max_lr=0.1, step_size_up=7, mode="exp_range", gamma=0.99)),
    ("CyclicLR-scale-fn", "sgd", lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=4, scale_fn=Warmup(30),
                                                         scale_mode="iterations")),
    ("CyclicLR-no-momentum", "adagrad",
     lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=6, scale_fn=lambda c: 1 / c, cycle_momentum=False)),
    ("OneCycleLR-cos-sgd", "sgd", lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=STEPS)),
    ("OneCycleLR-linear-adam", "adam",
     lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 2.0], total_steps=STEPS, anneal_strategy="linear")),
    ("OneCycleLR-three-phase", "sgd", lambda m, o: m.OneCycleLR(o, max_lr=1.0, epochs=10, steps_per_epoch=10,
                                                                pct_start=0.25, three_phase=True,
                                                                base_momentum=0.8, max_momentum=[0.9, 0.99])),
    ("OneCycleLR-no-momentum", "adagrad",
     lambda m, o: m.OneCycleLR(o, max_lr=0.4, total_steps=STEPS, cycle_momentum=False, div_factor=10.0,
                               final_div_factor=100.0)),
    ("SequentialLR", "sgd", _seq),
    ("SequentialLR-3", "adam", _seq3),
    ("SequentialLR-lambda", "sgd", _seq_lambda),
    ("ChainedScheduler", "sgd", _chain),
    ("ChainedScheduler-optimizer", "adam", _chain_opt),
]

PLATEAU = [
    ("default", "sgd", dict(patience=3)),
    ("max-abs", "adam", dict(mode="max", threshold_mode="abs", threshold=0.05, cooldown=2, min_lr=[0.01, 0.05],
                             patience=2, factor=0.5)),
    ("min-abs-eps", "sgd", dict(threshold_mode="abs", threshold=0.01, factor=0.7, patience=0, eps=1e-3,
                                min_lr=0.02)),
    ("max-rel", "sgd", dict(mode="max", patience=1, cooldown=3, factor=0.3)),
]


def _metrics(mode):
    """A noisy metric that improves and then plateaus, so every branch of ReduceLROnPlateau runs."""
    rng = np.random.default_rng(1)
    walk = np.minimum(np.arange(STEPS), 30) * 0.05 + 0.1 * rng.standard_normal(STEPS)
    return [float(2.0 - w if mode == "min" else w) for w in walk]


def _momenta(opt):
    return [(g.get("momentum"), tuple(g["betas"]) if "betas" in g else None) for g in opt.param_groups]


def _trace(lib, kind, make, steps=STEPS, metrics=None):
    opt = _opt(lib, kind)
    sched = make(lib.optim.lr_scheduler, opt)
    out = [(list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups], _momenta(opt))]
    for k in range(steps):
        opt.step()
        sched.step() if metrics is None else sched.step(metrics[k])
        out.append((list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups], _momenta(opt)))
    return out, sched, opt


def _assert_traces_close(ours, theirs, rtol=1e-12):
    assert len(ours) == len(theirs)
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        np.testing.assert_allclose(a[0], b[0], rtol=rtol, atol=1e-15, err_msg=f"get_last_lr at step {k}")
        np.testing.assert_allclose(a[1], b[1], rtol=rtol, atol=1e-15, err_msg=f"group lr at step {k}")
        for (m, betas), (tm, tbetas) in zip(a[2], b[2], strict=True):
            assert (m is None) == (tm is None) and (betas is None) == (tbetas is None)
            if m is not None:
                assert m == pytest.approx(tm, rel=rtol, abs=1e-15), f"momentum at step {k}"
            if betas is not None:
                np.testing.assert_allclose(betas, tbetas, rtol=rtol, err_msg=f"betas at step {k}")


@pytest.mark.parametrize("name,kind,make", CASES, ids=[c[0] for c in CASES])
def test_scheduler_matches_torch(name, kind, make):
    torch = pytest.importorskip("torch")
    ours, sched, _ = _trace(tr, kind, make)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, tsched, _ = _trace(torch, kind, make)
    _assert_traces_close(ours, theirs)
    assert getattr(sched, "last_epoch", None) == getattr(tsched, "last_epoch", None)
    assert set(sched.state_dict()) == set(tsched.state_dict()) - {"_get_lr_called_within_step"}


@pytest.mark.parametrize("name,kind,kwargs", PLATEAU, ids=[c[0] for c in PLATEAU])
def test_reduce_lr_on_plateau_matches_torch(name, kind, kwargs):
    torch = pytest.importorskip("torch")
    metrics = _metrics(kwargs.get("mode", "min"))
    make = lambda m, o: m.ReduceLROnPlateau(o, **kwargs)  # noqa: E731
    ours, sched, _ = _trace(tr, kind, make, metrics=metrics)
    theirs, tsched, _ = _trace(torch, kind, make, metrics=metrics)
    _assert_traces_close(ours, theirs)
    assert len({tuple(t[1]) for t in ours}) > 2, "the metric should have triggered several reductions"
    assert set(sched.state_dict()) == set(tsched.state_dict())
    assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter) == \
        (tsched.best, tsched.num_bad_epochs, tsched.cooldown_counter)


RESUMABLE = ["StepLR", "MultiStepLR", "ConstantLR-10", "LinearLR-30", "ExponentialLR", "PolynomialLR-40",
             "CosineAnnealingLR", "CosineAnnealingWarmRestarts-mult", "LambdaLR", "MultiplicativeLR"]


@pytest.mark.parametrize("name", RESUMABLE)
def test_constructing_at_last_epoch_matches_torch(name):
    """A scheduler built with last_epoch=k on groups that have "initial_lr" (PyTorch's resume protocol)."""
    torch = pytest.importorskip("torch")
    make = dict((c[0], c[2]) for c in CASES)[name]
    traces = []
    for lib in (tr, torch):
        opt = _opt(lib, "sgd")
        for g, lr in zip(opt.param_groups, (0.05, 0.2), strict=True):
            g["initial_lr"], g["lr"] = 0.1 if lr == 0.05 else 0.3, lr
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched = make(_resuming(lib.optim.lr_scheduler, 12), opt)
            trace = [list(sched.get_last_lr())]
            for _ in range(30):
                opt.step()
                sched.step()
                trace.append(list(sched.get_last_lr()))
        traces.append(trace)
    np.testing.assert_allclose(traces[0], traces[1], rtol=1e-12)


class _resuming:
    """The lr_scheduler module with last_epoch=k passed to every scheduler the factory builds."""

    def __init__(self, module, k):
        self.module, self.k = module, k

    def __getattr__(self, name):
        cls = getattr(self.module, name)
        return lambda *a, **kw: cls(*a, last_epoch=self.k, **kw)


CLOSED = ["StepLR", "MultiStepLR", "ConstantLR-10", "LinearLR-30", "ExponentialLR", "PolynomialLR-40",
          "CosineAnnealingLR-eta", "CosineAnnealingWarmRestarts-mult"]


@pytest.mark.parametrize("name", CLOSED)
def test_step_with_epoch_uses_the_closed_form_as_torch(name):
    torch = pytest.importorskip("torch")
    make = dict((c[0], c[2]) for c in CASES)[name]
    epochs = [3, 4, 10, 9, 25, 40, 41, 2.5 if "Warm" in name else 2, 77]
    traces = []
    for lib in (tr, torch):
        opt = _opt(lib, "adam")
        sched = make(lib.optim.lr_scheduler, opt)
        trace = []
        for e in epochs:
            opt.step()
            # deprecated in PyTorch (a warning), except for CosineAnnealingWarmRestarts's fractional epochs
            with pytest.warns(UserWarning) if "Warm" not in name else contextlib.nullcontext():
                sched.step(e)
            trace.append(list(sched.get_last_lr()))
        sched.step()
        trace.append(list(sched.get_last_lr()))
        traces.append(trace)
    np.testing.assert_allclose(traces[0], traces[1], rtol=1e-12)


# ----- state dicts: snapshot at step 37, save/load through a real checkpoint, resume: identical to not stopping
def _plateau(kwargs):
    return lambda m, o: m.ReduceLROnPlateau(o, **kwargs)


RESUME_CASES = [(n, k, make, None) for n, k, make in CASES] + \
    [(f"Plateau-{n}", k, _plateau(kw), _metrics(kw.get("mode", "min"))) for n, k, kw in PLATEAU]


@pytest.mark.parametrize("name,kind,make,metrics", RESUME_CASES, ids=[c[0] for c in RESUME_CASES])
def test_state_dict_resumes_exactly(name, kind, make, metrics, tmp_path):
    full, _, _ = _trace(tr, kind, make, metrics=metrics)
    stop = 37
    _, sched, opt = _trace(tr, kind, make, steps=stop, metrics=metrics)
    tr.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "ck.npz")
    ck = tr.load(tmp_path / "ck.npz")
    opt2 = _opt(tr, kind)
    sched2 = make(optim.lr_scheduler, opt2)  # as in PyTorch: build the scheduler, then load both
    opt2.load_state_dict(ck["opt"])
    sched2.load_state_dict(ck["sched"])
    rest = [(sched2.get_last_lr(), [g["lr"] for g in opt2.param_groups], _momenta(opt2))]
    for k in range(stop, STEPS):
        opt2.step()
        sched2.step() if metrics is None else sched2.step(metrics[k])
        rest.append((sched2.get_last_lr(), [g["lr"] for g in opt2.param_groups], _momenta(opt2)))
    assert rest == full[stop:]  # exact, not close


def test_lambda_state_saves_callable_objects_not_functions():
    opt = _opt(tr, "sgd")
    sched = optim.lr_scheduler.LambdaLR(opt, [lambda e: 1.0, Warmup(7)])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [None, {"n": 7}]
    other = Warmup(3)
    sched2 = optim.lr_scheduler.LambdaLR(_opt(tr, "sgd"), [lambda e: 1.0, other])
    sched2.load_state_dict(sd)
    assert other.n == 7


def test_state_dicts_are_plain_data():
    plain = (int, float, str, bool, type(None))

    def walk(x, where):
        if isinstance(x, dict):
            # a Counter only for MultiStepLR's milestones (as torch's; tr.save keeps it)
            assert type(x) is dict or (type(x) is Counter and where.endswith("['milestones']")), where
            for k, v in x.items():
                assert isinstance(k, plain), where
                walk(v, f"{where}[{k!r}]")
        elif isinstance(x, (list, tuple)):
            assert type(x) in (list, tuple), f"{where} is a {type(x).__name__}"
            for i, v in enumerate(x):
                walk(v, f"{where}[{i}]")
        else:
            assert isinstance(x, plain) or isinstance(x, np.ndarray), f"{where} is a {type(x).__name__}"

    for name, kind, make in CASES:
        _, sched, opt = _trace(tr, kind, make, steps=5)
        walk(sched.state_dict(), name)
        walk(opt.state_dict(), name)


def test_plateau_accepts_a_tensor_metric_and_closed_forms():
    opt = _opt(tr, "sgd")
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(tr.Tensor(1.0))
    sched.step(tr.Tensor(2.0))
    assert sched.get_last_lr() == pytest.approx([0.01, 0.03])
    opt = optim.SGD([nn.Parameter(np.ones(2))], lr=1.0)
    cos = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.1)
    for e in range(1, 11):
        cos.step()
        assert cos.get_last_lr()[0] == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi * e / 10)) / 2, abs=1e-12)


def test_a_user_subclass_of_the_base_works_as_in_torch():
    """The way programs write their own schedule: subclass (_)LRScheduler and give get_lr from base_lrs."""
    torch = pytest.importorskip("torch")
    traces = []
    for lib in (tr, torch):
        class Warm(lib.optim.lr_scheduler._LRScheduler):
            def get_lr(self):
                return [b * min(1.0, (self.last_epoch + 1) / 4) for b in self.base_lrs]
        opt = _opt(lib, "sgd")
        sched = Warm(opt)
        trace = [sched.get_last_lr()]
        for _ in range(8):
            opt.step()
            sched.step()
            trace.append(sched.get_last_lr())
        traces.append(trace)
    np.testing.assert_allclose(traces[0], traces[1], rtol=1e-15)


@pytest.mark.parametrize("name,kind,make,metrics", RESUME_CASES, ids=[c[0] for c in RESUME_CASES])
def test_a_torch_scheduler_state_dict_loads_and_continues_as_torch(name, kind, make, metrics):
    """torch's optimizer and scheduler state dicts after 37 steps (tensors turned into arrays) loaded into ours:
    the remaining steps give torch's learning rates."""
    torch = pytest.importorskip("torch")
    stop = 37
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full, _, _ = _trace(torch, kind, make, metrics=metrics)
        _, tsched, topt = _trace(torch, kind, make, steps=stop, metrics=metrics)

    def host(x):
        if isinstance(x, dict):
            return {k: host(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return type(x)(host(v) for v in x)
        return x.detach().numpy().copy() if isinstance(x, torch.Tensor) else x

    opt = _opt(tr, kind)
    sched = make(optim.lr_scheduler, opt)
    opt.load_state_dict(host(topt.state_dict()))
    sched.load_state_dict(host(tsched.state_dict()))
    rest = [(sched.get_last_lr(), [g["lr"] for g in opt.param_groups], _momenta(opt))]
    for k in range(stop, STEPS):
        opt.step()
        sched.step() if metrics is None else sched.step(metrics[k])
        rest.append((sched.get_last_lr(), [g["lr"] for g in opt.param_groups], _momenta(opt)))
    _assert_traces_close(rest, full[stop:])
